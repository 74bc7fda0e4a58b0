#!/usr/bin/env node
/**
 * A deploy-rs for cancellation tests that does not stop when asked: it and
 * its child ignore SIGTERM and SIGINT, so only a SIGKILL of the process
 * group ends them. It prints deploy-rs's activation line, writes its pids to
 * PROBE_READY_FILE, then waits (at most PROBE_LIFETIME_MS, default 120 s).
 *
 * PROBE_MODE=escape also starts a process in a session of its own that holds
 * stdout and stderr open: out of reach of a group kill, as an escaped
 * grandchild would be (only the post step's cleanup can find it).
 */
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'

const lifetimeMs = Number(process.env.PROBE_LIFETIME_MS || 120_000)
const node =
  process.argv
    .at(-1)
    ?.replace(/^.*#/, '')
    .replace(/^"(.*)"$/, '$1') ?? 'node'
const stubborn = `process.on('SIGTERM', () => {}); process.on('SIGINT', () => {}); setTimeout(() => {}, ${lifetimeMs})`

for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => undefined)

const child = spawn(process.execPath, ['-e', stubborn], { stdio: 'inherit' })
const pids = [process.pid, child.pid]
if (process.env.PROBE_MODE === 'escape') {
  const escaped = spawn(process.execPath, ['-e', stubborn], { stdio: 'inherit', detached: true })
  pids.push(escaped.pid)
  escaped.unref()
}

process.stderr.write(`🚀 ℹ️ [deploy] [INFO] Activating profile \`system\` for node \`${node}\`\n`)
if (process.env.PROBE_READY_FILE)
  writeFileSync(process.env.PROBE_READY_FILE, `${pids.join('\n')}\n`)
setTimeout(() => process.exit(1), lifetimeMs)
