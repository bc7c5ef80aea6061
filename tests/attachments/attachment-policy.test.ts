import fc from 'fast-check'
import t from 'tap'
import { acceptFiles, cleanFileName, MAX_FILES } from '../../src/attachments/attachment-policy.js'
import type { AttachmentInfo } from '../../src/mail/parse-message.js'

const file = (index: number, filename: string | null, size = 10, inline = false): AttachmentInfo => ({ index, filename, contentType: 'application/octet-stream', charset: null, size, inline })
const policy = { bucket: 'Attachments', folder: '', maxBytes: 1000, types: [] as string[] }

t.test('any name becomes one safe path segment: no directories, no control or reserved characters, at most 100 characters', async (t) => {
  fc.assert(fc.property(fc.option(fc.string({ maxLength: 300 }), { nil: null }), (name) => {
    const clean = cleanFileName(name, 'attachment-1')
    // eslint-disable-next-line no-control-regex
    return clean.length > 0 && clean.length <= 100 && !/[\\/\u0000-\u001f\u007f<>:"|?*]/.test(clean) && clean !== '.' && clean !== '..' && !clean.startsWith('.') && clean.trim() === clean
  }), { numRuns: 3000 })
  t.equal(cleanFileName('..\\..\\windows\\system32\\evil.pdf', 'x'), 'evil.pdf')
  t.equal(cleanFileName(`${'a'.repeat(200)}.pdf`, 'x'), `${'a'.repeat(96)}.pdf`, 'a long name keeps its extension')
  t.equal(cleanFileName('   ', 'attachment-3'), 'attachment-3')
})

t.test('the same name twice: the second is numbered, so neither overwrites the other in the bucket', async (t) => {
  const { files } = acceptFiles([file(0, 'scan.pdf'), file(1, 'SCAN.pdf'), file(2, 'scan.pdf')], policy)
  t.same(files.map((f) => f.name), ['scan.pdf', 'SCAN (2).pdf', 'scan (3).pdf'])
})

t.test('bidirectional controls and other format characters leave a name, so a program cannot pass for a PDF (#28)', async (t) => {
  t.equal(cleanFileName('invoice\u202Efdp.exe', 'x'), 'invoicefdp.exe')
  t.equal(cleanFileName('\u2066report\u2069\u200B.pdf', 'x'), 'report.pdf')
  const refused = acceptFiles([file(0, 'invoice\u202Efdp.exe')], policy)
  t.match(refused.problems, [{ kind: 'program_file' }], 'judged by its real extension')
  const format = fc.constantFrom('\u202A', '\u202B', '\u202C', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069', '\u200B', '\u200E', '\u200F', '\u061C', '\uFEFF')
  fc.assert(fc.property(fc.array(fc.oneof(fc.string({ maxLength: 5 }), format), { maxLength: 30 }), (parts) => !/\p{Cf}/u.test(cleanFileName(parts.join(''), 'attachment-1'))), { numRuns: 2000 })
})

t.test('a listed archive or program type is accepted; inline parts are not files; too many files are one problem', async (t) => {
  t.same(acceptFiles([file(0, 'batch.zip')], { ...policy, types: ['zip'] }).files.map((f) => f.name), ['batch.zip'])
  t.same(acceptFiles([file(0, 'logo.png', 10, true)], policy), { files: [], problems: [] })
  const many = acceptFiles(Array.from({ length: MAX_FILES + 1 }, (_, i) => file(i, `f${i}.pdf`)), policy)
  t.same(many, { files: [], problems: [{ kind: 'too_many_files', params: { count: MAX_FILES + 1, max: MAX_FILES }, message: `the email has ${MAX_FILES + 1} attachments; send at most ${MAX_FILES} per email` }] })
})
