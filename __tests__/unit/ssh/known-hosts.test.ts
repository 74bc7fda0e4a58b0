import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { isPinned, knownHostsName } from '../../../src/ssh/known-hosts.js'

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl'

describe('knownHostsName', () => {
  it('is the bare host on port 22 and [host]:port otherwise', () => {
    expect(knownHostsName('web.example.com', 22)).toBe('web.example.com')
    expect(knownHostsName('web.example.com', 2222)).toBe('[web.example.com]:2222')
    expect(knownHostsName('10.0.0.1', 2200)).toBe('[10.0.0.1]:2200')
  })
})

describe('isPinned: plain entries', () => {
  const lines = [
    `web.example.com ${KEY}`,
    `[db.example.com]:2222 ${KEY}`,
    `10.0.0.5,cache.example.com ${KEY} comment`
  ]

  it('matches a host on port 22 by name', () => {
    expect(isPinned(lines, 'web.example.com', 22)).toBe(true)
    expect(isPinned(lines, 'cache.example.com', 22)).toBe(true)
    expect(isPinned(lines, '10.0.0.5', 22)).toBe(true)
  })

  it('matches case-insensitively, as ssh does', () => {
    expect(isPinned(lines, 'WEB.Example.com', 22)).toBe(true)
  })

  it('needs [host]:port for another port, and the bare name only for 22', () => {
    expect(isPinned(lines, 'db.example.com', 2222)).toBe(true)
    expect(isPinned(lines, 'db.example.com', 22)).toBe(false)
    expect(isPinned(lines, 'web.example.com', 2222)).toBe(false)
    expect(isPinned(lines, 'db.example.com', 2223)).toBe(false)
  })

  it('does not match other hosts, prefixes or suffixes', () => {
    expect(isPinned(lines, 'mail.example.com', 22)).toBe(false)
    expect(isPinned(lines, 'web.example.co', 22)).toBe(false)
    expect(isPinned(lines, 'xweb.example.com', 22)).toBe(false)
    expect(isPinned(lines, 'web.example.com.evil', 22)).toBe(false)
    expect(isPinned(lines, '10.0.0.50', 22)).toBe(false)
  })

  it('takes dots literally (web.example.com does not pin webXexample.com)', () => {
    expect(isPinned(lines, 'webXexample.com', 22)).toBe(false)
  })

  it('pins nothing with no lines or broken lines', () => {
    expect(isPinned([], 'web.example.com', 22)).toBe(false)
    expect(isPinned(['', '   ', '@cert-authority'], 'web.example.com', 22)).toBe(false)
  })
})

describe('isPinned: patterns', () => {
  it('* and ? wildcards', () => {
    const lines = [`*.example.com ${KEY}`, `node-?.lan ${KEY}`]
    expect(isPinned(lines, 'web.example.com', 22)).toBe(true)
    expect(isPinned(lines, 'a.b.example.com', 22)).toBe(true)
    expect(isPinned(lines, 'example.com', 22)).toBe(false)
    expect(isPinned(lines, 'node-1.lan', 22)).toBe(true)
    expect(isPinned(lines, 'node-12.lan', 22)).toBe(false)
  })

  it('a wildcard covers [host]:port names too, and patterns may name the port', () => {
    expect(isPinned([`* ${KEY}`], 'db.example.com', 2222)).toBe(true)
    expect(isPinned([`[*.example.com]:2222 ${KEY}`], 'db.example.com', 2222)).toBe(true)
    expect(isPinned([`[*.example.com]:2222 ${KEY}`], 'db.example.com', 22)).toBe(false)
  })

  it('a negated pattern excludes a host even when another pattern includes it', () => {
    const lines = [`*.example.com,!bastion.example.com ${KEY}`]
    expect(isPinned(lines, 'web.example.com', 22)).toBe(true)
    expect(isPinned(lines, 'bastion.example.com', 22)).toBe(false)
    expect(isPinned([`!*.example.com,web.example.com ${KEY}`], 'web.example.com', 22)).toBe(false)
  })

  it('a negation alone pins nothing', () => {
    expect(isPinned([`!bastion.example.com ${KEY}`], 'web.example.com', 22)).toBe(false)
  })

  it('regex characters in host names are literal', () => {
    expect(isPinned([`web+1.example.com ${KEY}`], 'web+1.example.com', 22)).toBe(true)
    expect(isPinned([`web+1.example.com ${KEY}`], 'webb1.example.com', 22)).toBe(false)
    expect(isPinned([`(a|b) ${KEY}`], 'a', 22)).toBe(false)
  })
})

describe('isPinned: markers', () => {
  it('@revoked lines never pin', () => {
    expect(isPinned([`@revoked web.example.com ${KEY}`], 'web.example.com', 22)).toBe(false)
  })

  it('a revoked key does not unpin a host that has another pinned key', () => {
    expect(
      isPinned([`@revoked web.example.com ${KEY}`, `web.example.com ${KEY}`], 'web.example.com', 22)
    ).toBe(true)
  })

  it('@cert-authority lines pin the hosts they name', () => {
    const lines = [`@cert-authority *.example.com ${KEY}`]
    expect(isPinned(lines, 'web.example.com', 22)).toBe(true)
    expect(isPinned(lines, 'web.example.org', 22)).toBe(false)
  })
})

describe('isPinned: hashed entries made by ssh-keygen -H', () => {
  let dir: string
  let hashed: string[]

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'known-hosts-test-'))
    const file = join(dir, 'known_hosts')
    writeFileSync(file, `web.example.com ${KEY}\n[db.example.com]:2222 ${KEY}\n10.1.2.3 ${KEY}\n`)
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' })
    hashed = readFileSync(file, 'utf8').trim().split('\n')
  })

  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('really are hashed', () => {
    expect(hashed).toHaveLength(3)
    for (const line of hashed)
      expect(line).toMatch(/^\|1\|[A-Za-z0-9+/=]+\|[A-Za-z0-9+/=]+ ssh-ed25519 /)
    expect(hashed.join('\n')).not.toContain('example.com')
  })

  it('match the hosts they were made from, and only those', () => {
    expect(isPinned(hashed, 'web.example.com', 22)).toBe(true)
    expect(isPinned(hashed, '10.1.2.3', 22)).toBe(true)
    expect(isPinned(hashed, 'db.example.com', 2222)).toBe(true)
    expect(isPinned(hashed, 'db.example.com', 22)).toBe(false)
    expect(isPinned(hashed, 'web.example.com', 2222)).toBe(false)
    expect(isPinned(hashed, 'mail.example.com', 22)).toBe(false)
    expect(isPinned(hashed, '10.1.2.30', 22)).toBe(false)
  })

  it('match a host name written in another case: ssh lowercases it before hashing', () => {
    // Otherwise the pinned host would be scanned too, and the scanned key would be trusted next to the pin.
    expect(isPinned(hashed, 'Web.Example.COM', 22)).toBe(true)
    expect(isPinned(hashed, 'DB.example.com', 2222)).toBe(true)
  })

  it('@revoked hashed lines never pin', () => {
    expect(isPinned([`@revoked ${hashed[0]}`], 'web.example.com', 22)).toBe(false)
  })

  it('a malformed hashed entry pins nothing', () => {
    expect(isPinned([`|1|onlysalt ${KEY}`], 'web.example.com', 22)).toBe(false)
    expect(isPinned([`|1|| ${KEY}`], 'web.example.com', 22)).toBe(false)
  })
})
