import { readFile } from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import { EnvSchema } from '../src/config.js'
import { repoRoot } from './support/process.js'

t.test('the README starts with the two commands', async (t) => {
  const readme = await readFile(path.join(repoRoot, 'README.md'), 'utf8')
  t.match(readme, /^# mailrun\n\n```sh\nnpm install && npm start\nnpm test\n```\n/)
})

t.test('the configuration table of docs/operating.md lists every variable with its default', async (t) => {
  const readme = await readFile(path.join(repoRoot, 'docs/operating.md'), 'utf8')
  for (const [name, schema] of Object.entries(EnvSchema.properties)) {
    const row = readme.split('\n').find((line) => line.startsWith(`| \`${name}\` |`))
    t.ok(row, `${name} has a row`)
    const fallback = (schema as { default?: unknown }).default
    if (fallback !== undefined) t.match(row ?? '', `| \`${String(fallback)}\` |`, `${name} shows its default`)
  }
})

t.test('.env.example names every variable with its default', async (t) => {
  const text = await readFile(path.join(repoRoot, '.env.example'), 'utf8')
  for (const [name, schema] of Object.entries(EnvSchema.properties) as Array<[string, { default?: unknown }]>) {
    t.ok(text.includes(`\n# ${name}=${schema.default !== undefined ? String(schema.default) : ''}\n`), name)
  }
})

t.test('the README stays short and links every document in docs/', async (t) => {
  const readme = await readFile(path.join(repoRoot, 'README.md'), 'utf8')
  t.ok(readme.split('\n').length <= 160, `README has ${readme.split('\n').length} lines`)
  const { readdir } = await import('node:fs/promises')
  for (const file of (await readdir(path.join(repoRoot, 'docs'))).filter((f) => f.endsWith('.md'))) t.match(readme, `](docs/${file})`, `links docs/${file}`)
})
