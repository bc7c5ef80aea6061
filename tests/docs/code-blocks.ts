import { readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'

// The `sh` code blocks of the README and docs/*.md. A block's info string says what to do with it:
//   ```sh                    a command to run (in order, one shell session per file)
//   ```sh terminal: NAME     a long-running process started in its own terminal
//   ```sh norun: REASON      shown but not run, and why
export interface CodeBlock { file: string, line: number, kind: 'run' | 'terminal' | 'norun', label: string, code: string }

export function codeBlocks (root: string, file: string): CodeBlock[] {
  const lines = readFileSync(path.join(root, file), 'utf8').split('\n')
  const blocks: CodeBlock[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^```sh(?:\s+(terminal|norun):\s*(.*))?$/.exec(lines[i] ?? '')
    if (open === null) continue
    const start = i
    const body: string[] = []
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i] ?? '')
    blocks.push({ file, line: start + 1, kind: (open[1] as CodeBlock['kind'] | undefined) ?? 'run', label: open[2]?.trim() ?? '', code: body.join('\n') })
  }
  return blocks
}

export function documentationFiles (root: string): string[] {
  return ['README.md', ...readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)]
}
