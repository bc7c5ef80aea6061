import { Counter, Histogram, type Registry } from 'prom-client'

export interface Metrics {
  messages: Counter<'door' | 'status'>
  receiveSeconds: Histogram<'door'>
  launches: Counter<'state'>
  launchSeconds: Histogram
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
    }),
    launches: new Counter({ name: 'mailrun_launch_transitions_total', help: 'Launches entering a state (launched, retrying, failed, completed, faulted, stopped)', labelNames: ['state'], registers: [registry] }),
    launchSeconds: new Histogram({
      name: 'mailrun_launch_seconds',
      help: 'From a command accepted to its job started in Orchestrator',
      registers: [registry],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800]
    })
  }
}
