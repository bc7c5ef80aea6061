// A FIFO lock: each holder gets the resource only after the previous one released it.
export class Mutex {
  #tail: Promise<void> = Promise.resolve()

  async lock (): Promise<() => void> {
    let release!: () => void
    const next = new Promise<void>((resolve) => { release = resolve })
    const previous = this.#tail
    this.#tail = previous.then(() => next)
    await previous
    let released = false
    return () => {
      if (released) return
      released = true
      release()
    }
  }
}
