import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'

// A door answers a post it will not read (413, an unknown token) and closes the connection
// without reading the rest. Closed at once, the data the sender is still writing makes the
// server's kernel reset the connection, and a reset discards what the sender has received but
// not read yet: a sender that writes its whole post before it reads would see a broken
// connection, not the answer that says why. So the connection is half-closed after the answer
// and what still arrives is read and dropped, for at most LINGER_MS (time-bound, never buffered),
// then it is closed; a sender that stops first ends it sooner. nginx calls this lingering close.

const LINGER_MS = 2000

/** Makes Node's close-after-this-response (Connection: close) linger on the request's connection instead of closing at once. */
export function lingerOnClose (request: IncomingMessage, ms = LINGER_MS): void {
  request.socket.destroySoon = function lingering (this: Socket): void {
    // Half-closed: the answer and a FIN go out; Node's HTTP reader goes on reading the request
    // body, which flows to nowhere: a reader that gave up on it (the multipart parser) is taken off.
    this.end()
    request.unpipe()
    request.removeAllListeners('data')
    request.resume()
    const timer = setTimeout(() => { this.destroy() }, ms)
    timer.unref()
    this.once('close', () => { clearTimeout(timer) })
  }
}
