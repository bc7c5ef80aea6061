import { hostname } from 'node:os'
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises'
import { existsSync, unlinkSync, readFileSync } from 'node:fs'
import path from 'node:path'

// The embedded database is one PostgreSQL backend compiled to WebAssembly, living in one process:
// a second process opening the same files would corrupt them, and both would run the background
// work (launch queue, replies, IMAP). A lock file in the data directory keeps it to one process.

export class DataDirLocked extends Error {}

interface LockOwner { pid: number, host: string, startedAt: string, /** The kernel's start time of the process (Linux), telling a reused pid from the holder. */ started?: string }

export interface DataDirLock {
  path: string
  /** Removes the lock if it is still ours. */
  release: () => Promise<void>
}

/** The process's state letter and start time from /proc/<pid>/stat (Linux), or null where there is no /proc. */
function procStat (pid: number): { state: string, started: string } | 'gone' | null {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return existsSync('/proc/self/stat') ? 'gone' : null
    return null
  }
  // "pid (comm) state ppid …": comm may hold spaces and parentheses, so read after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  return { state: fields[0] ?? '', started: fields[19] ?? '' }
}

/**
 * Whether the lock's holder still runs. A holder killed with SIGKILL whose parent has not reaped
 * it (a container without an init) is a zombie: its pid still exists, but it holds nothing. A pid
 * that now belongs to another process (a different start time) is not the holder either.
 */
function isAlive (owner: LockOwner): boolean {
  const stat = procStat(owner.pid)
  if (stat === 'gone') return false
  if (stat !== null) {
    if (stat.state === 'Z' || stat.state === 'X') return false
    return owner.started === undefined || owner.started === stat.started
  }
  try {
    process.kill(owner.pid, 0)
    return true
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function parseOwner (text: string): LockOwner | null {
  try {
    const owner = JSON.parse(text) as Partial<LockOwner>
    return typeof owner.pid === 'number' && typeof owner.host === 'string' ? { pid: owner.pid, host: owner.host, startedAt: String(owner.startedAt ?? ''), ...(typeof owner.started === 'string' ? { started: owner.started } : {}) } : null
  } catch {
    return null
  }
}

/**
 * Takes the data directory for this process, or throws DataDirLocked naming the process that holds
 * it. A lock left by a process that no longer runs (on this host) is taken over.
 */
export async function lockDataDir (dataDir: string): Promise<DataDirLock> {
  const dir = path.resolve(dataDir)
  await mkdir(dir, { recursive: true })
  const lockPath = path.join(dir, 'mailrun.lock')
  const self = procStat(process.pid)
  const me: LockOwner = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), ...(self !== null && self !== 'gone' ? { started: self.started } : {}) }
  const mine = JSON.stringify(me)
  // Written aside, then linked into place: link() fails if the lock exists, so two processes
  // starting at once cannot both take it, and nobody ever reads a half-written lock.
  const candidate = `${lockPath}.${process.pid}`
  await writeFile(candidate, mine, { mode: 0o600 })
  try {
    for (let tries = 0; ; tries++) {
      try {
        await link(candidate, lockPath)
        break
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || tries > 3) throw error
      }
      const text = await readFile(lockPath, 'utf8').catch(() => '')
      const owner = parseOwner(text)
      if (owner !== null && owner.host !== me.host) {
        throw new DataDirLocked(`the data directory ${dir} is in use by process ${owner.pid} on host ${owner.host} (since ${owner.startedAt}). Stop that process, or if it no longer runs, delete ${lockPath}.`)
      }
      if (owner !== null && owner.pid !== process.pid && isAlive(owner)) {
        throw new DataDirLocked(`the data directory ${dir} is in use by another mailrun, process ${owner.pid} (since ${owner.startedAt}). Stop it first, or give this one its own MAILRUN_DATA_DIR (or a DATABASE_URL: several processes can share a PostgreSQL).`)
      }
      // Left by a process that is gone (or unreadable): take it over, unless it changed meanwhile.
      const again = await readFile(lockPath, 'utf8').catch(() => null)
      if (again === text) await unlink(lockPath).catch(() => {})
    }
  } finally {
    await unlink(candidate).catch(() => {})
  }
  const ours = (): boolean => {
    try { return readFileSync(lockPath, 'utf8') === mine } catch { return false }
  }
  // Also on an abrupt exit that still runs 'exit' handlers (process.exit after a fatal error).
  const onExit = (): void => { if (ours()) try { unlinkSync(lockPath) } catch {} }
  process.once('exit', onExit)
  return {
    path: lockPath,
    async release () {
      process.off('exit', onExit)
      if (ours()) await unlink(lockPath).catch(() => {})
    }
  }
}
