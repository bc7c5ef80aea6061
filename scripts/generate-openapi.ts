import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { renderOpenApi } from './openapi-document.js'

const target = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../openapi.yaml')
const document = await renderOpenApi()

if (process.argv.includes('--check')) {
  const committed = await readFile(target, 'utf8').catch(() => '')
  if (committed !== document) {
    console.error('openapi.yaml is out of date with the route schemas: run npm run openapi and commit the result')
    process.exitCode = 1
  } else {
    console.log('openapi.yaml matches the route schemas')
  }
} else {
  await writeFile(target, document)
  console.log(`wrote ${path.relative(process.cwd(), target)}`)
}
