/** The canary input: written as targets are, each one a target, checked against the flake. */
import { describe, expect, it } from '@jest/globals'
import { InputError, parseCanary, readSettings, type Settings } from '../../../src/inputs.js'
import { makePlan } from '../../../src/plan/plan.js'
import { PlanError } from '../../../src/plan/inventory.js'
import type { Nix } from '../../../src/commands/nix.js'

const KEY =
  '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB\n-----END OPENSSH PRIVATE KEY-----\n'

function settingsWith(inputs: Record<string, string>): Settings {
  const all: Record<string, string> = { 'ssh-private-key': KEY, ...inputs }
  return readSettings(name => all[name] ?? '')
}

const nix = (names: string[]): Nix => ({
  evalDeployNodes: async () =>
    Object.fromEntries(
      names.map(name => [name, { hostname: `${name}.lan`, profiles: ['system'] }])
    ),
  flakeCheck: async () => ({ ok: true, reason: null, outputTail: [] }),
  hasDeployRsInput: async () => false
})

describe('canary input', () => {
  it('is empty by default', () => {
    expect(settingsWith({}).canary).toEqual([])
  })

  it('takes the words of targets, in their syntax', () => {
    expect(parseCanary('web, "a.b".system', ['db', 'web', '"a.b".system'])).toEqual([
      'web',
      '"a.b".system'
    ])
  })

  it('names a canary node that is not among the targets', () => {
    expect(() => settingsWith({ targets: 'web db', canary: 'web cache' })).toThrow(InputError)
    expect(() => settingsWith({ targets: 'web db', canary: 'web cache' })).toThrow(
      /canary: "cache" is not in targets/
    )
  })

  it('refuses all and an unterminated quote, under its own name', () => {
    expect(() => parseCanary('all', 'all')).toThrow(/^canary: got 'all'/)
    expect(() => parseCanary('"web', 'all')).toThrow(/^canary: unterminated/)
  })

  it('with targets all, is checked against the flake by the plan, naming the input', async () => {
    const settings = settingsWith({ canary: 'nosuch' })
    const planning = makePlan(settings, false, nix(['db', 'web']))
    await expect(planning).rejects.toThrow(PlanError)
    await expect(makePlan(settings, false, nix(['db', 'web']))).rejects.toThrow(/^canary: /)
  })

  it('gives the plan the canary node names in plan order', async () => {
    const plan = await makePlan(
      settingsWith({ targets: 'web db cache', canary: 'cache,web' }),
      false,
      nix(['cache', 'db', 'web'])
    )
    expect(plan.nodes.map(node => node.name)).toEqual(['web', 'db', 'cache'])
    expect(plan.canary).toEqual(['web', 'cache'])
  })
})
