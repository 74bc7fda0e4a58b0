#!/usr/bin/env node
// @ts-check
/**
 * A stand-in for a program on PATH (nix, ssh, ssh-keyscan, ssh-keygen,
 * deploy) that first records the environment it was started with, read raw
 * from /proc/self/environ (a shell would silently drop names with '-', such
 * as INPUT_SSH-PRIVATE-KEY), then runs the real program of that name: the
 * next one on PATH after its own directory. Records go to records.jsonl next
 * to the probe. Exit status and signals are passed through.
 */
import { spawn } from 'node:child_process'
import { accessSync, appendFileSync, constants, readFileSync } from 'node:fs'
import { basename, delimiter, dirname, join, resolve } from 'node:path'

const self = process.argv[1] ?? ''
const tool = basename(self)
const here = dirname(self)
const args = process.argv.slice(2)

const environ = readFileSync('/proc/self/environ', 'utf8').split('\0').filter(Boolean)
appendFileSync(
  join(here, 'records.jsonl'),
  `${JSON.stringify({ tool, argv: args, pid: process.pid, ppid: process.ppid, environ })}\n`
)

/** @returns {string | null} */
function nextOnPath() {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir || resolve(dir) === resolve(here)) continue
    try {
      accessSync(join(dir, tool), constants.X_OK)
      return join(dir, tool)
    } catch {
      // not here
    }
  }
  return null
}

const real = nextOnPath()
if (!real) {
  process.stderr.write(`env probe: no ${tool} on PATH after ${here}\n`)
  process.exit(127)
}
const child = spawn(real, args, { stdio: 'inherit' })
/** @type {NodeJS.Signals[]} */
const FORWARDED = ['SIGTERM', 'SIGINT', 'SIGHUP']
for (const sig of FORWARDED) process.on(sig, () => child.kill(sig))
child.on('error', err => {
  process.stderr.write(`env probe: ${err.message}\n`)
  process.exit(127)
})
child.on('exit', (code, signal) => {
  if (signal) {
    for (const sig of FORWARDED) process.removeAllListeners(sig)
    process.kill(process.pid, signal)
  }
  process.exit(code ?? 1)
})
