import { readFileSync } from 'node:fs'

// Summarises a V8 .cpuprofile (from `npm run bench -- --cpu-prof`): where mailrun's CPU time went,
// by package or file and by function, self time. Usage: tsx bench/profile-summary.ts <file> [top]

interface Node { id: number, callFrame: { functionName: string, url: string, lineNumber: number }, children?: number[] }
interface Profile { nodes: Node[], samples: number[], timeDeltas: number[], startTime: number, endTime: number }

const [file, topArg] = process.argv.slice(2)
if (file === undefined) throw new Error('usage: tsx bench/profile-summary.ts <file.cpuprofile> [top]')
const top = Number(topArg ?? 25)
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const selfUs = new Map<number, number>()
profile.samples.forEach((id, i) => { selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)) })

function place (url: string): string {
  if (url === '') return '(native/V8)'
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (pkg !== null) return pkg[1] as string
  if (url.startsWith('node:')) return url
  return url.replace(/^file:\/\/.*?\/(dist\/)?(src|migrations)\//, '$2/')
}

const byPlace = new Map<string, number>()
const byFunction = new Map<string, number>()
for (const [id, us] of selfUs) {
  const node = byId.get(id)
  if (node === undefined) continue
  const where = place(node.callFrame.url)
  byPlace.set(where, (byPlace.get(where) ?? 0) + us)
  const fn = `${node.callFrame.functionName || '(anonymous)'}  ${where}:${node.callFrame.lineNumber + 1}`
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + us)
}
const total = [...selfUs.values()].reduce((a, b) => a + b, 0)
const idle = [...selfUs].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((a, [, us]) => a + us, 0)
const print = (title: string, map: Map<string, number>): void => {
  console.log(`\n${title} (self time, % of busy time)`)
  for (const [name, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${(us / (total - idle) * 100).toFixed(1).padStart(6)} %  ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`)
}
console.log(`profile: ${(total / 1e6).toFixed(1)} s, busy ${((total - idle) / 1e6).toFixed(1)} s`)
print('by package / file', byPlace)
print('by function', byFunction)
