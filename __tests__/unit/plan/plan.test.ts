import { describe, expect, it, jest } from '@jest/globals'
import type { Nix } from '../../../src/commands/nix.js'
import { InputError, type Settings } from '../../../src/inputs.js'
import { PlanError } from '../../../src/plan/inventory.js'
import { makePlan } from '../../../src/plan/plan.js'

const NODES = {
  web: {
    hostname: 'web.example.com',
    sshUser: null,
    sshOpts: [],
    profiles: ['system'],
    profilesOrder: []
  },
  db: {
    hostname: 'db.example.com',
    sshUser: 'root',
    sshOpts: ['-p', '2222'],
    profiles: ['system'],
    profilesOrder: []
  }
}

function settings(overrides: Partial<Settings> = {}): Settings {
  return {
    targets: 'all',
    canary: [],
    dryRun: 'auto',
    flake: 'github:o/r',
    sshPrivateKey: '',
    sshKeyPassphrase: '',
    knownHosts: [],
    sshKeyscan: true,
    sshUser: null,
    sshConfig: [],
    deployRs: null,
    deployArgs: { deploy: [], nix: ['--impure'] },
    skipChecks: false,
    parallel: 4,
    failFast: false,
    hostTimeoutMs: 60_000,
    keyscanTimeoutSeconds: 10,
    githubToken: '',
    prComment: 'auto',
    deployments: false,
    healthCheck: { kind: 'off' },
    healthTimeoutMs: 120_000,
    planOnly: true,
    ...overrides
  }
}

function fakeNix(json: unknown = NODES) {
  const evalDeployNodes = jest.fn<Nix['evalDeployNodes']>(async () => json)
  const nix: Nix = {
    evalDeployNodes,
    flakeCheck: async () => ({ ok: true, reason: null, outputTail: [] }),
    hasDeployRsInput: async () => false
  }
  return { nix, evalDeployNodes }
}

describe('makePlan', () => {
  it('evaluates the nodes once, with the nix args, and resolves the targets', async () => {
    const { nix, evalDeployNodes } = fakeNix()
    const plan = await makePlan(settings({ targets: ['web', 'db'] }), true, nix)
    expect(evalDeployNodes).toHaveBeenCalledTimes(1)
    expect(evalDeployNodes).toHaveBeenCalledWith('github:o/r', ['--impure'], undefined)
    expect(plan.flake).toBe('github:o/r')
    expect(plan.dryRun).toBe(true)
    expect(plan.nodes.map(node => [node.name, node.port, node.sshUser])).toEqual([
      ['web', 22, null],
      ['db', 2222, 'root']
    ])
  })

  it('all: every node, sorted by name', async () => {
    const plan = await makePlan(settings(), false, fakeNix().nix)
    expect(plan.dryRun).toBe(false)
    expect(plan.nodes.map(node => node.name)).toEqual(['db', 'web'])
  })

  it('fails on an unknown target, listing the nodes', async () => {
    await expect(makePlan(settings({ targets: ['mail'] }), false, fakeNix().nix)).rejects.toThrow(
      new PlanError('targets: "mail" is not a node of the flake. The nodes are: db, web.')
    )
  })

  it('fails on a flake without nodes', async () => {
    await expect(makePlan(settings(), false, fakeNix({}).nix)).rejects.toThrow(PlanError)
  })

  it('refuses --rollback-succeeded on a dry run before evaluating anything', async () => {
    for (const deploy of [['--rollback-succeeded', 'true'], ['--rollback-succeeded=true']]) {
      const { nix, evalDeployNodes } = fakeNix()
      const error = await makePlan(settings({ deployArgs: { deploy, nix: [] } }), true, nix).catch(
        (caught: unknown) => caught
      )
      expect(error).toBeInstanceOf(InputError)
      expect((error as Error).message).toMatch(
        /^deploy-args: --rollback-succeeded cannot be set on a dry run/
      )
      expect(evalDeployNodes).not.toHaveBeenCalled()
    }
  })

  it('allows --rollback-succeeded on a real deploy', async () => {
    const plan = await makePlan(
      settings({ deployArgs: { deploy: ['--rollback-succeeded', 'false'], nix: [] } }),
      false,
      fakeNix().nix
    )
    expect(plan.nodes).toHaveLength(2)
  })
})

describe('makePlan: nodes deploy-rs cannot address', () => {
  it('rejects a targeted node whose sshOpts element holds a blank, naming it and the fix', async () => {
    const { nix } = fakeNix({
      ...NODES,
      bastioned: { ...NODES.web, sshOpts: ['-o', 'ProxyCommand=ssh -W %h:%p bastion'] }
    })
    await expect(makePlan(settings({ targets: ['bastioned'] }), false, nix)).rejects.toThrow(
      /deploy\.nodes\."bastioned": sshOpts element "ProxyCommand=ssh -W %h:%p bastion" contains a blank.*ssh-config/
    )
    // Untargeted, it is no obstacle.
    await expect(makePlan(settings({ targets: ['web'] }), false, nix)).resolves.toMatchObject({
      nodes: [{ name: 'web' }]
    })
  })

  it('rejects a node name with a double quote', async () => {
    const { nix } = fakeNix({ ...NODES, 'we"b': NODES.web })
    await expect(makePlan(settings(), false, nix)).rejects.toThrow(PlanError)
    await expect(makePlan(settings(), false, nix)).rejects.toThrow(
      /containing '"' cannot be passed to deploy-rs/
    )
  })
})
