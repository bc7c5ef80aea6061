import { Unzip, UnzipInflate } from 'fflate'

// A ZIP's directory says how large each file unpacks, and a hostile one lies: a 409 KB workbook
// that claimed a few kilobytes unpacked to 400 MiB inside read-excel-file and held the process for
// a minute. So the bytes are really inflated first, counted and thrown away, a few kilobytes of
// input at a time with a turn of the event loop between (health checks and other messages go on
// meanwhile), and the count stops at the limit: nothing past it is ever inflated.

/** Compressed bytes per step: at deflate's ~1,000:1 at most about 4 MB of output, a few milliseconds. */
const STEP = 4 * 1024

const turn = async (): Promise<void> => await new Promise((resolve) => { setImmediate(resolve) })

/** The bytes the ZIP really unpacks to, or `over` once they pass `limit` (inflating stops there). */
export async function inflatedSize (zip: Uint8Array, limit: number): Promise<{ over: boolean, bytes: number }> {
  // Written by the inflate callbacks while the loop below pushes input.
  const state: { bytes: number, over: boolean, failure: Error | null } = { bytes: 0, over: false, failure: null }
  const files: Array<{ terminate: () => void }> = []
  const unzip = new Unzip((file) => {
    files.push(file)
    file.ondata = (error, chunk) => {
      if (error !== null) { state.failure ??= error; return }
      state.bytes += chunk.length
      if (state.bytes > limit && !state.over) {
        state.over = true
        for (const f of files) f.terminate()
      }
    }
    file.start()
  })
  unzip.register(UnzipInflate)
  for (let at = 0; at < zip.length && !state.over && state.failure === null; at += STEP) {
    unzip.push(zip.subarray(at, at + STEP), at + STEP >= zip.length)
    await turn()
  }
  if (state.failure !== null) throw state.failure
  return { over: state.over, bytes: state.bytes }
}
