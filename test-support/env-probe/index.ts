/**
 * A bin dir of environment probes (see probe.mjs): put it first on PATH and
 * every probed program a run starts, and everything those start in turn,
 * leaves a record of the environment it got.
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const PROBE = join(dirname(fileURLToPath(import.meta.url)), 'probe.mjs')

export interface EnvRecord {
  tool: string
  argv: string[]
  pid: number
  ppid: number
  /** NAME=value entries, exactly as in /proc/self/environ. */
  environ: string[]
}

export interface ProbeDir {
  dir: string
  /** Every record so far, in the order written. */
  records(): Promise<EnvRecord[]>
  remove(): Promise<void>
}

/**
 * Writes one probe per tool name. Each is a node script run by this node
 * (not through /usr/bin/env or a shell): it loads probe.mjs, which knows the
 * tool by the name it was started as.
 */
export async function writeProbeDir(tools: readonly string[]): Promise<ProbeDir> {
  const dir = await mkdtemp(join(tmpdir(), 'dra-env-probe-'))
  await Promise.all(
    tools.map(async tool => {
      const file = join(dir, tool)
      // A file without an extension outside any package is CommonJS; import() loads the ESM probe.
      await writeFile(
        file,
        `#!${process.execPath}\nimport(${JSON.stringify(pathToFileURL(PROBE).href)})\n`
      )
      await chmod(file, 0o755)
    })
  )
  return {
    dir,
    async records() {
      const text = await readFile(join(dir, 'records.jsonl'), 'utf8').catch(() => '')
      return text
        .split('\n')
        .filter(line => line !== '')
        .map(line => JSON.parse(line) as EnvRecord)
    },
    remove: () => rm(dir, { recursive: true, force: true })
  }
}
