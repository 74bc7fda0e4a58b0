/**
 * Pins and scanned keys in the action's known_hosts, as ssh looks them up:
 * a port-22 host only by its bare name (so `[host]:22` pins are rewritten),
 * every scanned key under the node's own name, and pins that match no node
 * named. Lookups are checked with the real `ssh-keygen -F`, which searches a
 * known_hosts file as ssh does.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type { Keyscan } from '../../../src/commands/ssh-keyscan.js'
import { collectHostKeys } from '../../../src/ssh/host-keys.js'
// A namespace import: on code without one of these functions only its own tests fail.
import * as knownHosts from '../../../src/ssh/known-hosts.js'

const { isPinned } = knownHosts
const normalisePin: typeof knownHosts.normalisePin = line => knownHosts.normalisePin(line)
const underName: typeof knownHosts.underName = (line, host, port) =>
  knownHosts.underName(line, host, port)
const unusedPins: typeof knownHosts.unusedPins = (lines, hosts) =>
  knownHosts.unusedPins(lines, hosts)

const ED = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl'
const RSA = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7'

let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pins-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** The key types ssh finds for a known_hosts name in these lines (ssh-keygen -F). */
function sshFinds(lines: readonly string[], name: string): string[] {
  const file = join(dir, `kh-${Math.random().toString(36).slice(2)}`)
  writeFileSync(file, lines.map(line => `${line}\n`).join(''))
  const result = spawnSync('ssh-keygen', ['-F', name, '-f', file], { encoding: 'utf8' })
  return result.stdout
    .split('\n')
    .filter(line => line !== '' && !line.startsWith('#'))
    .map(line => line.split(' ')[1])
}

/** `known_hosts` line hashed by the real ssh-keygen -H. */
function hashed(line: string): string {
  const file = join(dir, `hash-${Math.random().toString(36).slice(2)}`)
  writeFileSync(file, `${line}\n`)
  execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' })
  return readFileSync(file, 'utf8').trim()
}

const noScan: Keyscan = async () => {
  throw new Error('a pinned host must not be scanned')
}

describe('a pin written [host]:22', () => {
  it('ssh itself never finds it for port 22 (it looks up the bare name)', () => {
    expect(sshFinds([`[web.example.com]:22 ${ED}`], 'web.example.com')).toEqual([])
  })

  it('counts as a pin of the host on port 22, plain or hashed', () => {
    expect(isPinned([`[web.example.com]:22 ${ED}`], 'web.example.com', 22)).toBe(true)
    expect(isPinned([`db,[web.example.com]:22 ${ED}`], 'web.example.com', 22)).toBe(true)
    expect(isPinned([hashed(`[web.example.com]:22 ${ED}`)], 'web.example.com', 22)).toBe(true)
    // ...and only for port 22.
    expect(isPinned([`[web.example.com]:22 ${ED}`], 'web.example.com', 2222)).toBe(false)
    expect(isPinned([hashed(`[web.example.com]:22 ${ED}`)], 'web.example.com', 2222)).toBe(false)
  })

  it('is rewritten so that ssh finds it; other names, negations and markers are kept', () => {
    expect(normalisePin(`[web.example.com]:22 ${ED} my comment`)).toBe(
      `web.example.com ${ED} my comment`
    )
    expect(normalisePin(`db,![web.example.com]:22,[x]:2222 ${ED}`)).toBe(
      `db,!web.example.com,[x]:2222 ${ED}`
    )
    expect(normalisePin(`@cert-authority [*.example.com]:22 ${ED}`)).toBe(
      `@cert-authority *.example.com ${ED}`
    )
    const untouched = `[db.example.com]:2222   ${ED}`
    expect(normalisePin(untouched)).toBe(untouched)
  })

  it('collectHostKeys: the host is not scanned (no trust on first use) and ssh finds its pin', async () => {
    const result = await collectHostKeys([{ host: 'web.example.com', port: 22 }], {
      pinned: [`[web.example.com]:22 ${ED}`],
      scan: true,
      keyscan: noScan,
      timeoutSeconds: 1
    })
    expect(result.missing.size).toBe(0)
    expect(sshFinds(result.knownHosts, 'web.example.com')).toEqual(['ssh-ed25519'])
  })

  it('collectHostKeys: a hashed [host]:22 pin is written again under the bare name', async () => {
    const pin = hashed(`[web.example.com]:22 ${ED}`)
    const result = await collectHostKeys([{ host: 'web.example.com', port: 22 }], {
      pinned: [pin],
      scan: false,
      keyscan: noScan,
      timeoutSeconds: 1
    })
    expect(result.missing.size).toBe(0)
    expect(result.knownHosts).toEqual([pin, `web.example.com ${ED}`])
    expect(sshFinds(result.knownHosts, 'web.example.com')).toEqual(['ssh-ed25519'])
  })
})

describe('scanned keys go under the node own known_hosts name', () => {
  it('whatever name ssh-keyscan printed', async () => {
    const keyscan: Keyscan = async host =>
      host === 'prod.example'
        ? { lines: [`evil.example ${ED}`, `evil.example,prod.example ${RSA}`], problem: null }
        : { lines: [`elsewhere ${ED}`], problem: null }
    const result = await collectHostKeys(
      [
        { host: 'prod.example', port: 2222 },
        { host: 'web.example', port: 22 }
      ],
      { pinned: [], scan: true, keyscan, timeoutSeconds: 1 }
    )
    expect(result.knownHosts.sort()).toEqual(
      [`[prod.example]:2222 ${ED}`, `[prod.example]:2222 ${RSA}`, `web.example ${ED}`].sort()
    )
    expect(sshFinds(result.knownHosts, 'evil.example')).toEqual([])
    expect(sshFinds(result.knownHosts, '[prod.example]:2222')).toEqual(['ssh-ed25519', 'ssh-rsa'])
  })

  it('underName keeps the key and its comment', () => {
    expect(underName(`x,y ${ED} c`, 'h', 22)).toBe(`h ${ED} c`)
    expect(underName(`x ${ED}`, '::1', 2200)).toBe(`[::1]:2200 ${ED}`)
  })
})

describe('unusedPins', () => {
  const nodes = [
    { host: 'web.example.com', port: 22 },
    { host: 'db.example.com', port: 2222 }
  ]

  it('names each pin that matches no node, by its host list', () => {
    const pins = [
      `web.example.com ${ED}`,
      `[db.example.com]:2222 ${ED}`,
      `db.example.com ${ED}`,
      `[web.example.com]:2222 ${ED}`,
      `bastion.example.com ${RSA}`,
      hashed(`other.example.com ${ED}`)
    ]
    expect(unusedPins(pins, nodes)).toEqual([
      'db.example.com',
      '[web.example.com]:2222',
      'bastion.example.com',
      expect.stringMatching(/^\|1\|/)
    ])
  })

  it('counts patterns, [host]:22 and hashed pins that match; @revoked lines are no pins', () => {
    const pins = [
      `*.example.com ${ED}`,
      `[web.example.com]:22 ${ED}`,
      hashed(`[db.example.com]:2222 ${ED}`),
      `@revoked nothing.example ${ED}`
    ]
    expect(unusedPins(pins, nodes)).toEqual([])
  })
})
