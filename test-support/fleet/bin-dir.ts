/**
 * The fleet's bin dir, to prepend to PATH: `deploy` runs the stand-in, `nix`
 * logs its argv to the calls log and runs the real nix (or, for
 * `nix run ...deploy-rs... -- ARGS`, the stand-in). The fleet's env is baked
 * in as defaults, so PATH alone is enough.
 */
import { accessSync, constants } from 'node:fs'
import { chmod, writeFile } from 'node:fs/promises'
import { delimiter, join, resolve } from 'node:path'

/** `'...'` for POSIX sh. */
export function shQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`
}

/** The first `nix` on PATH that is not one of our wrappers. */
export function findRealNix(excludeDir: string): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir || resolve(dir) === resolve(excludeDir)) continue
    const candidate = join(dir, 'nix')
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  return '/usr/bin/nix'
}

function wrapperScript(env: Record<string, string>, argv: string[]): string {
  const lines = ['#!/bin/sh', '# written by test-support/fleet: see bin-dir.ts']
  for (const [name, value] of Object.entries(env)) {
    lines.push(`: "\${${name}:=${value.replace(/[\\"$`]/g, c => `\\${c}`)}}"`, `export ${name}`)
  }
  lines.push(`exec ${argv.map(shQuote).join(' ')} "$@"`, '')
  return lines.join('\n')
}

export async function writeBinDir(opts: {
  binDir: string
  env: Record<string, string>
  standInCommand: string[]
  nixWrapperCommand: string[]
}): Promise<void> {
  const deploy = join(opts.binDir, 'deploy')
  const nix = join(opts.binDir, 'nix')
  await writeFile(deploy, wrapperScript(opts.env, opts.standInCommand))
  await writeFile(nix, wrapperScript(opts.env, opts.nixWrapperCommand))
  await Promise.all([chmod(deploy, 0o755), chmod(nix, 0o755)])
}
