import { problem } from '../commands/problem-text.js'
import type { AttachmentPolicy, Problem } from '../db/schema.js'
import type { AttachmentInfo } from '../mail/parse-message.js'

// Which of an email's attachments a robot receives: the sender's files (not the logo inside a
// signature), each within the robot's size limit and types. Programs and archives are refused unless
// the robot lists their extension: a robot that opens what it is sent must not run a stranger's
// program or unpack a bomb because an email carried one.

const EXECUTABLES = new Set(['exe', 'com', 'bat', 'cmd', 'msi', 'msp', 'scr', 'pif', 'cpl', 'dll', 'sys', 'ps1', 'psm1', 'vbs', 'vbe', 'js', 'jse', 'wsf', 'wsh', 'hta', 'jar', 'sh', 'app', 'lnk', 'reg', 'xlsm', 'docm', 'pptm'])
const ARCHIVES = new Set(['zip', 'rar', '7z', 'tar', 'gz', 'tgz', 'bz2', 'xz', 'cab', 'iso', 'img', 'arj', 'lzh', 'z', 'zst'])
export const MAX_FILES = 20

export interface AcceptedFile { index: number, name: string, contentType: string, size: number }

export function extensionOf (name: string): string {
  return /\.([a-z0-9]{1,10})$/i.exec(name)?.[1]?.toLowerCase() ?? ''
}

/**
 * A name that is safe as the last part of a bucket path: no directories, no control or reserved
 * characters, at most 100 characters with the extension kept.
 */
export function cleanFileName (name: string | null, fallback: string): string {
  // Format characters (U+202E RIGHT-TO-LEFT OVERRIDE and the other bidirectional controls, zero-width
  // ones) go: with them "invoice\u202Efdp.exe" shows as "invoiceexe.pdf".
  const base = (name ?? '').normalize('NFC').replace(/\p{Cf}+/gu, '').split(/[\\/]/).pop() ?? ''
  // eslint-disable-next-line no-control-regex
  let clean = base.replace(/[\u0000-\u001f\u007f<>:"|?*#%&{}$!'@`=+]+/g, '_').replace(/\s+/g, ' ').replace(/^[\s.]+|[\s.]+$/g, '')
  if (clean === '') clean = fallback
  if (clean.length > 100) {
    const extension = extensionOf(clean)
    clean = extension === '' ? clean.slice(0, 100) : `${clean.slice(0, 99 - extension.length)}.${extension}`
  }
  return clean
}

export function acceptFiles (attachments: AttachmentInfo[], policy: AttachmentPolicy): { files: AcceptedFile[], problems: Problem[] } {
  const sent = attachments.filter((a) => !a.inline)
  const problems: Problem[] = []
  if (sent.length > MAX_FILES) return { files: [], problems: [problem('too_many_files', { count: sent.length, max: MAX_FILES })] }
  const files: AcceptedFile[] = []
  const taken = new Set<string>()
  for (const a of sent) {
    let name = cleanFileName(a.filename, `attachment-${a.index + 1}`)
    const shown = a.filename ?? name
    const extension = extensionOf(name)
    const listed = policy.types.includes(extension)
    if (EXECUTABLES.has(extension) && !listed) { problems.push(problem('program_file', undefined, { text: shown })); continue }
    if (ARCHIVES.has(extension) && !listed) { problems.push(problem('archive_file', undefined, { text: shown })); continue }
    if (policy.types.length > 0 && !listed) { problems.push(problem('file_type', { types: policy.types }, { text: shown })); continue }
    if (a.size > policy.maxBytes) { problems.push(problem('file_too_large', { size: megabytes(a.size), max: megabytes(policy.maxBytes) }, { text: shown })); continue }
    // Two files with one name would overwrite each other in the bucket.
    for (let n = 2; taken.has(name.toLowerCase()); n++) name = extension === '' ? `${cleanFileName(a.filename, 'attachment')} (${n})` : `${name.slice(0, name.length - extension.length - 1).replace(/ \(\d+\)$/, '')} (${n}).${extension}`
    taken.add(name.toLowerCase())
    files.push({ index: a.index, name, contentType: a.contentType, size: a.size })
  }
  return { files, problems }
}

function megabytes (bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} KB`
}
