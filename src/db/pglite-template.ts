import { existsSync } from 'node:fs'
import { readFile, rename, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { Kysely } from 'kysely'
import { migrateToLatest } from './migrate.js'
import { PGliteDialect } from './pglite-dialect.js'
import type { Database } from './schema.js'

// A new embedded data directory used to be made by initdb at the first start: a second PGlite
// (WebAssembly) instance that left the process at ~720 MB resident for good. The build makes one
// migrated data directory instead (dist/pglite-template.tar.gz, with `npm install` or `npm run
// build`), and a first start unpacks it: resident memory as after a restart, and no migrations to
// run. Without the file (running from the TypeScript sources), the first start runs initdb as before.

/** dist/pglite-template.tar.gz when running compiled (dist/src/db/ → dist/). */
export const PGLITE_TEMPLATE_FILE = fileURLToPath(new URL('../../pglite-template.tar.gz', import.meta.url))

/** The template, when the build made one. */
export async function readPGliteTemplate (file = PGLITE_TEMPLATE_FILE): Promise<Blob | null> {
  if (!existsSync(file)) return null
  return new Blob([await readFile(file)])
}

/** Makes the template: an in-memory PGlite with the same settings as mailrun's, migrated, dumped (gzip). */
export async function writePGliteTemplate (startParams: string[], file = PGLITE_TEMPLATE_FILE): Promise<void> {
  const { PGlite } = await import('@electric-sql/pglite')
  const pglite = new PGlite({ startParams })
  await pglite.waitReady
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) })
  try {
    await migrateToLatest(db)
    const dump = await pglite.dumpDataDir('gzip')
    // Written whole, then renamed: a start beside the build never reads half a template.
    const partial = `${file}.${process.pid}.partial`
    await writeFile(partial, Buffer.from(await dump.arrayBuffer()))
    await rename(partial, file)
  } finally {
    await db.destroy()
    if (!pglite.closed) await pglite.close()
  }
}
