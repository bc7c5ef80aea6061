import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import { repoRoot } from './support/process.js'

// The admin API and the console call the same resource functions (src/resources); a route that
// queried the database itself would be a second copy of a rule the other side does not follow.

const QUERY = /\b(selectFrom|insertInto|updateTable|deleteFrom)\b|\bapp\.db\b|\bsql`/

t.test('admin routes hold HTTP concerns only: no query in them', async (t) => {
  const dir = path.join(repoRoot, 'src/routes/admin')
  const files = (await readdir(dir)).filter((f) => f.endsWith('.ts'))
  t.ok(files.length >= 6, `${files.length} route files`)
  for (const file of files) {
    const text = await readFile(path.join(dir, file), 'utf8')
    const line = text.split('\n').findIndex((l) => QUERY.test(l))
    t.equal(line, -1, `${file} has no query${line === -1 ? '' : ` (line ${line + 1}: ${text.split('\n')[line]?.trim()})`}`)
  }
})
