import { Counter, Histogram, type Registry } from 'prom-client'

export interface Metrics {
  messages: Counter<'door' | 'status'>
  receiveSeconds: Histogram<'door'>
}

export function createMetrics (registry: Registry): Metrics {
  return {
    messages: new Counter({ name: 'mailrun_messages_total', help: 'Messages received, by door and outcome', labelNames: ['door', 'status'], registers: [registry] }),
    receiveSeconds: new Histogram({
      name: 'mailrun_receive_seconds',
      help: 'From a delivery arriving to its answer',
      labelNames: ['door'],
      registers: [registry],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    })
  }
}
