/**
 * Small REAL closures in the local Nix store, built without building
 * anything: every store path is a text file made by `builtins.toFile`, and a
 * path refers to another by mentioning it in its text (the string context
 * becomes the file's references). `nix-store --query --requisites`,
 * `--references`, `--size` and `nix path-info` then work on them like on any
 * system closure. One `nix-instantiate --eval --read-write-mode` per call,
 * offline, as root without a daemon (Debian's nix-bin 2.8); plain `--eval` is
 * read-only and would only compute the paths.
 *
 * The paths are a pure function of the description, so making the same
 * generation twice gives the same paths. Nothing roots them: `nix-store --gc`
 * would remove them (tests make them again when needed).
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)

/** What a generation holds; every key and list entry is a store path name. */
export interface GenerationSpec {
  /** The top-level path's name, e.g. `nixos-system-web-24.05.20240601.abcdef1`. */
  name: string
  /** Package name → its version (or versions): `{ openssl: '3.0.13', python3: ['3.11.9', '3.12.4'] }`. */
  packages: Readonly<Record<string, string | readonly string[]>>
  /** Names of unversioned paths: `etc`, `system-units`, `unit-nginx.service`. */
  extras?: readonly string[]
  /** Path name → the path names it refers to: `{ 'nginx-1.26.1': ['openssl-3.0.13'] }`. */
  references?: Readonly<Record<string, readonly string[]>>
  /** Path names built differently from another generation's same-named path (a rebuild). */
  rebuilt?: readonly string[]
  /** Path name → bytes of filler in its file, so sizes differ. */
  payloadBytes?: Readonly<Record<string, number>>
}

export interface Generation {
  /** The top-level store path: its closure is itself plus every package and extra. */
  topLevel: string
  /** Path name → store path, for every package and extra. */
  paths: Record<string, string>
}

export interface NixTools {
  /** Default `nix-instantiate` from PATH. */
  nixInstantiate?: string
}

/** What `builtins.toFile` accepts as a store path name. */
const STORE_NAME = /^[A-Za-z0-9+\-_?=][A-Za-z0-9+\-._?=]{0,210}$/

/** Everything is escaped that could start an escape or an interpolation. */
function nixLiteral(value: string): string {
  return `"${value.replace(/[\\"$]/g, c => `\\${c}`).replace(/\n/g, '\\n')}"`
}

function checkName(name: string, where: string): void {
  if (!STORE_NAME.test(name))
    throw new Error(`${where}: ${JSON.stringify(name)} is not a store path name`)
}

/** The path names of a generation, each once, in the order they were given. */
export function generationPathNames(spec: GenerationSpec): string[] {
  const names: string[] = []
  for (const [name, versions] of Object.entries(spec.packages)) {
    for (const version of typeof versions === 'string' ? [versions] : versions) {
      names.push(`${name}-${version}`)
    }
  }
  names.push(...(spec.extras ?? []))
  return [...new Set(names)]
}

/** Path names ordered so that each comes after everything it refers to. */
function dependencyOrder(names: string[], references: GenerationSpec['references']): string[] {
  const known = new Set(names)
  const ordered: string[] = []
  const state = new Map<string, 'visiting' | 'done'>()
  const visit = (name: string, trail: string[]): void => {
    if (state.get(name) === 'done') return
    if (state.get(name) === 'visiting')
      throw new Error(`reference cycle: ${[...trail, name].join(' → ')}`)
    state.set(name, 'visiting')
    for (const target of references?.[name] ?? []) {
      if (!known.has(target))
        throw new Error(`${name} refers to ${target}, which is not in the generation`)
      visit(target, [...trail, name])
    }
    state.set(name, 'done')
    ordered.push(name)
  }
  for (const name of names) visit(name, [])
  return ordered
}

/** The Nix expression: one toFile per path, then the top level mentioning them all. */
export function generationExpression(spec: GenerationSpec): string {
  checkName(spec.name, 'generation name')
  const names = generationPathNames(spec)
  for (const name of names) checkName(name, `path in ${spec.name}`)
  for (const name of Object.keys(spec.references ?? {})) {
    if (!names.includes(name)) throw new Error(`references: ${name} is not in the generation`)
  }
  const ordered = dependencyOrder(names, spec.references)
  const variable = new Map(ordered.map((name, i) => [name, `p${i}`]))
  const rebuilt = new Set(spec.rebuilt ?? [])
  const lines = ['let']
  for (const name of ordered) {
    const header = `deploy-rs-action test closure: ${name}\n${rebuilt.has(name) ? `rebuilt for ${spec.name}\n` : ''}`
    const filler = `builtins.concatStringsSep "" (builtins.genList (_: "x") ${spec.payloadBytes?.[name] ?? 0})`
    const mentions = (spec.references?.[name] ?? []).map(target => `\${${variable.get(target)}}\\n`)
    lines.push(
      `  ${variable.get(name)} = builtins.toFile ${nixLiteral(name)} (${nixLiteral(header)} + ${filler} + "${mentions.join('')}");`
    )
  }
  const all = ordered.map(name => `\${${variable.get(name)}}\\n`).join('')
  lines.push(`  top = builtins.toFile ${nixLiteral(spec.name)} "${all}";`)
  lines.push('in {', '  inherit top;', '  paths = {')
  for (const name of ordered) lines.push(`    ${nixLiteral(name)} = ${variable.get(name)};`)
  lines.push('  };', '}', '')
  return lines.join('\n')
}

async function evaluateIntoStore(expression: string, tools: NixTools): Promise<unknown> {
  const dir = await mkdtemp(join(tmpdir(), 'closures-'))
  try {
    const file = join(dir, 'generation.nix')
    await writeFile(file, expression)
    const { stdout } = await execFileAsync(
      tools.nixInstantiate ?? 'nix-instantiate',
      ['--eval', '--strict', '--json', '--read-write-mode', file],
      { maxBuffer: 256 * 1024 * 1024, timeout: 300_000 }
    )
    return JSON.parse(stdout)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** Writes a generation's paths into the local store; returns its top-level path. */
export async function makeGeneration(
  spec: GenerationSpec,
  tools: NixTools = {}
): Promise<Generation> {
  const result = (await evaluateIntoStore(generationExpression(spec), tools)) as {
    top: string
    paths: Record<string, string>
  }
  return { topLevel: result.top, paths: result.paths }
}

/**
 * Several generations in ONE evaluation (a fleet makes two per node and
 * profile: one `nix-instantiate` each would cost ~50 ms apiece). Equal specs
 * give equal paths, as with makeGeneration.
 */
export async function makeGenerations(
  specs: readonly GenerationSpec[],
  tools: NixTools = {}
): Promise<Generation[]> {
  if (specs.length === 0) return []
  const expression = `[\n${specs.map(spec => `(${generationExpression(spec)})`).join('\n')}]\n`
  const results = (await evaluateIntoStore(expression, tools)) as {
    top: string
    paths: Record<string, string>
  }[]
  return results.map(result => ({ topLevel: result.top, paths: result.paths }))
}

export interface LargeGenerationSpec {
  name: string
  /** How many versioned paths (`pkgN-<major>.N`); 5,000 to 20,000 for a realistic system. */
  count: number
  /** Major version of every `changedEvery`-th package (others stay at 1). */
  major: number
  /** Default 10. */
  changedEvery?: number
}

/**
 * A big closure in one evaluation: `count` versioned paths, each referring to
 * the one before it (chains of ten, so `--requisites` really walks), plus the
 * top level. Package `pkgN` is at `<major>.N` when N is a multiple of
 * `changedEvery`, else at `1.N`: two generations with different majors differ
 * in exactly count / changedEvery packages.
 */
export function largeGenerationExpression(spec: LargeGenerationSpec): string {
  checkName(spec.name, 'generation name')
  if (!Number.isInteger(spec.count) || spec.count < 1) throw new Error('count: a positive integer')
  if (!Number.isInteger(spec.major) || spec.major < 0) throw new Error('major: a whole number')
  const every = spec.changedEvery ?? 10
  return `let
  nameOf = i: "pkg\${toString i}-\${toString (if i - (i / ${every}) * ${every} == 0 then ${spec.major} else 1)}.\${toString i}";
  paths = builtins.genList (i: builtins.toFile (nameOf i)
    ("deploy-rs-action test closure: \${nameOf i}\\n"
      + (if i - (i / 10) * 10 == 0 then "" else "\${builtins.elemAt paths (i - 1)}\\n"))) ${spec.count};
in builtins.toFile ${nixLiteral(spec.name)} (builtins.concatStringsSep "\\n" paths)
`
}

export async function makeLargeGeneration(
  spec: LargeGenerationSpec,
  tools: NixTools = {}
): Promise<string> {
  return (await evaluateIntoStore(largeGenerationExpression(spec), tools)) as string
}
