import type { ImapFlow } from 'imapflow'

// IMAP NOTIFY (RFC 5465): one connection hears about new mail in every swept folder, not only
// the selected one. A folder that is not selected is reported by an unsolicited STATUS naming it;
// the selected folder by EXISTS, as with IDLE. The session names every folder but INBOX, which it
// keeps selected. imapflow has no NOTIFY command: it goes through the client's own command
// dispatch (`exec`), after `preCheck`, which ends an IDLE as imapflow's own commands do.

/** What a STATUS said about a folder; a field the server left out is absent. */
export interface FolderStatus { messages?: number, uidNext?: number, uidValidity?: number }

/** The part of imapflow's client this module uses that its type declarations leave out. */
interface ImapInternals {
  exec: (command: string, attributes: unknown[], options?: unknown) => Promise<{ next?: () => void }>
  preCheck?: (() => Promise<void>) | false
  untaggedHandlers: Record<string, ((untagged: { attributes?: Array<{ value?: unknown } | unknown[]> }) => unknown) | null>
}

const atom = (value: string): { type: 'ATOM', value: string } => ({ type: 'ATOM', value })

export function offersNotify (client: ImapFlow): boolean {
  return client.capabilities.has('NOTIFY')
}

/** Reads `* STATUS <name> (KEY value …)` into the folder's name as the server wrote it and its numbers. */
export function readStatus (attributes: Array<{ value?: unknown } | unknown[]> | undefined): { name: string, status: FolderStatus } | null {
  const [first, list] = attributes ?? []
  const name = first !== undefined && !Array.isArray(first) && typeof first.value === 'string' ? first.value : null
  if (name === null || !Array.isArray(list)) return null
  const status: FolderStatus = {}
  for (let i = 0; i + 1 < list.length; i += 2) {
    const key = String((list[i] as { value?: unknown }).value ?? '').toUpperCase()
    const value = Number((list[i + 1] as { value?: unknown }).value)
    if (!Number.isSafeInteger(value)) continue
    if (key === 'MESSAGES') status.messages = value
    else if (key === 'UIDNEXT') status.uidNext = value
    else if (key === 'UIDVALIDITY') status.uidValidity = value
  }
  return { name, status }
}

export interface FolderNotify {
  /**
   * Asks the server, once per connection, to report new mail in the selected folder and in the
   * folders given (names as listed by the server); it answers each listed folder's current
   * STATUS at once (the selected one excepted), reported through `onStatus`. Dovecot 2.3 was seen
   * to report one change and then none after a second NOTIFY SET on the same connection.
   */
  start: () => Promise<void>
  /**
   * A STATUS command whose answer is read only if it names `folder`: an unsolicited report of
   * another folder arriving meanwhile goes to `onStatus`, not into this answer (imapflow's own
   * status() would take it for the folder asked about).
   */
  status: (folder: string) => Promise<FolderStatus>
}

/**
 * Registers for unsolicited STATUS responses on `client` and answers how to start NOTIFY and ask
 * for a folder's STATUS. `folders` maps each name as the server lists it to mailrun's folder path.
 */
export function folderNotify (client: ImapFlow, folders: Map<string, string>, onStatus: (folder: string, status: FolderStatus) => void): FolderNotify {
  const internals = client as unknown as ImapInternals
  const listedOf = new Map([...folders].map(([listed, path]) => [path, listed]))
  const unsolicited = (untagged: { attributes?: Array<{ value?: unknown } | unknown[]> }): void => {
    const read = readStatus(untagged.attributes)
    const folder = read === null ? undefined : folders.get(read.name)
    if (read !== null && folder !== undefined) onStatus(folder, read.status)
  }
  internals.untaggedHandlers.STATUS = unsolicited
  const command = async (name: string, attributes: unknown[], options?: unknown): Promise<void> => {
    if (typeof internals.preCheck === 'function') await internals.preCheck()
    const response = await internals.exec(name, attributes, options)
    // imapflow reads nothing more from the server until a response is released.
    response.next?.()
  }
  const events = [atom('MessageNew'), atom('MessageExpunge')]
  return {
    async start () {
      const names = [...folders.keys()].map((value) => ({ type: 'STRING', value }))
      await command('NOTIFY', [atom('SET'), atom('STATUS'), [atom('selected'), events], [atom('mailboxes'), names, events]])
    },
    async status (folder) {
      const listed = listedOf.get(folder) ?? folder
      let answer: FolderStatus = {}
      await command('STATUS', [{ type: 'STRING', value: listed }, [atom('MESSAGES'), atom('UIDNEXT'), atom('UIDVALIDITY')]], {
        untagged: {
          STATUS: (untagged: { attributes?: Array<{ value?: unknown } | unknown[]> }) => {
            const read = readStatus(untagged.attributes)
            if (read !== null && read.name === listed) answer = read.status
            else unsolicited(untagged)
          }
        }
      })
      return answer
    }
  }
}
