/**
 * A kick for a pass that must not run twice at once: kicked while it runs, it runs once more right
 * after, so nothing queued meanwhile waits for the background loop.
 */
export function singleFlight (pass: () => Promise<unknown>, onError: (error: unknown) => void): () => void {
  let running = false
  let again = false
  const kick = (): void => {
    if (running) { again = true; return }
    running = true
    again = false
    pass().catch(onError).finally(() => {
      running = false
      if (again) kick()
    })
  }
  return kick
}
