import { connect } from 'node:net'

/**
 * Speaks SMTP line by line to a server on 127.0.0.1 and answers every reply it got, for checks
 * a mail library hides (the EHLO capabilities, one LMTP reply per recipient). Each command is sent
 * once the previous reply is complete; DATA content is sent as one piece ending in CRLF.CRLF.
 */
export async function smtpDialogue (port: number, commands: Array<string | { data: string, replies: number }>): Promise<string[]> {
  const socket = connect(port, '127.0.0.1')
  let buffer = ''
  const replies: string[] = []
  let waiting: { count: number, resolve: () => void } | null = null
  const complete = (): void => {
    // A reply ends with a line whose code is followed by a space (not a hyphen).
    for (;;) {
      const match = /^(?:\d{3}-[^\n]*\n)*\d{3} [^\n]*\n/.exec(buffer)
      if (match === null) break
      replies.push(match[0].replace(/\r/g, '').trimEnd())
      buffer = buffer.slice(match[0].length)
    }
    if (waiting !== null && replies.length >= waiting.count) { const w = waiting; waiting = null; w.resolve() }
  }
  socket.on('data', (chunk: Buffer) => { buffer += chunk.toString('utf8'); complete() })
  const until = async (count: number): Promise<void> => await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`SMTP dialogue: waited for reply ${count}, got:\n${replies.join('\n')}`)) }, 30_000)
    waiting = { count, resolve: () => { clearTimeout(timer); resolve() } }
    complete()
  })
  await until(1)
  let expected = 1
  for (const command of commands) {
    if (typeof command === 'string') {
      socket.write(`${command}\r\n`)
      expected += 1
    } else {
      socket.write(`${command.data.replace(/\r?\n/g, '\r\n')}\r\n.\r\n`)
      expected += command.replies
    }
    await until(expected)
  }
  socket.end()
  return replies
}
