import { describe, expect, it } from '@jest/globals'
import { parseInventory, PlanError, sshPort } from '../../../src/plan/inventory.js'

describe('parseInventory', () => {
  it('turns the nix eval JSON into nodes sorted by name', () => {
    const nodes = parseInventory(
      {
        web: {
          hostname: 'web.example.com',
          sshUser: 'deploy',
          sshOpts: ['-p', '2222'],
          profiles: ['system'],
          profilesOrder: []
        },
        db: {
          hostname: '10.0.0.2',
          sshUser: null,
          sshOpts: [],
          profiles: ['app', 'system'],
          profilesOrder: ['system']
        },
        Cache: { hostname: 'cache', profiles: ['system'] }
      },
      '.'
    )
    expect(nodes).toEqual([
      {
        name: 'Cache',
        hostname: 'cache',
        sshUser: null,
        sshOpts: [],
        profiles: ['system'],
        port: 22
      },
      {
        name: 'db',
        hostname: '10.0.0.2',
        sshUser: null,
        sshOpts: [],
        profiles: ['system', 'app'],
        port: 22
      },
      {
        name: 'web',
        hostname: 'web.example.com',
        sshUser: 'deploy',
        sshOpts: ['-p', '2222'],
        profiles: ['system'],
        port: 2222
      }
    ])
  })

  it('deploys profilesOrder first, then the remaining profiles; unknown names in profilesOrder are ignored', () => {
    const [node] = parseInventory(
      { n: { hostname: 'h', profiles: ['a', 'b', 'c', 'd'], profilesOrder: ['c', 'ghost', 'a'] } },
      '.'
    )
    expect(node.profiles).toEqual(['c', 'a', 'b', 'd'])
  })

  it('lists a profile named twice in profilesOrder once', () => {
    const [node] = parseInventory(
      {
        n: {
          hostname: 'h',
          profiles: ['app', 'system'],
          profilesOrder: ['system', 'system', 'app']
        }
      },
      '.'
    )
    expect(node.profiles).toEqual(['system', 'app'])
  })

  it('ignores non-string entries in lists and a non-string sshUser', () => {
    const [node] = parseInventory(
      {
        n: { hostname: 'h', sshUser: 5, sshOpts: ['-p', 2222, '-v', null], profiles: ['system', 3] }
      },
      '.'
    )
    expect(node.sshOpts).toEqual(['-p', '-v'])
    expect(node.profiles).toEqual(['system'])
    expect(node.sshUser).toBeNull()
    expect(node.port).toBe(22)
  })

  it.each([null, [], 'nodes', 42, undefined])(
    'rejects %j as deploy.nodes, naming the flake',
    json => {
      expect(() => parseInventory(json, 'github:o/r')).toThrow(
        new PlanError("flake 'github:o/r': deploy.nodes is not an attribute set")
      )
    }
  )

  it('rejects a flake without nodes', () => {
    expect(() => parseInventory({}, './infra')).toThrow(
      new PlanError("flake './infra' has no deploy.nodes")
    )
  })

  it.each([
    [{ web: { profiles: ['system'] } }, 'deploy.nodes."web" has no hostname'],
    [{ web: { hostname: null, profiles: ['system'] } }, 'deploy.nodes."web" has no hostname'],
    [{ web: { hostname: '  ', profiles: ['system'] } }, 'deploy.nodes."web" has no hostname'],
    [{ web: { hostname: 7, profiles: ['system'] } }, 'deploy.nodes."web" has no hostname'],
    [{ web: null }, 'deploy.nodes."web" has no hostname'],
    [
      { 'a.b': { hostname: '-oProxyCommand=x', profiles: ['system'] } },
      `deploy.nodes."a.b".hostname starts with '-'`
    ],
    [{ web: { hostname: 'h', profiles: [] } }, 'deploy.nodes."web" has no profiles'],
    [{ web: { hostname: 'h' } }, 'deploy.nodes."web" has no profiles']
  ])('rejects a bad node %j', (json, message) => {
    let error: unknown
    try {
      parseInventory(json, '.')
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(PlanError)
    expect((error as Error).message).toBe(
      `flake '.': ${message}${message.endsWith("'-'") ? ', which ssh would take for an option' : ''}`
    )
  })
})

describe('sshPort', () => {
  it.each([
    [[], 22],
    [['-i', '/k', '-v'], 22],
    [['-p', '2222'], 2222],
    [['-p2222'], 2222],
    [['-o', 'Port=2200'], 2200],
    [['-oPort=2201'], 2201],
    [['-o', 'Port 2202'], 2202],
    [['-o', 'port = 2203'], 2203],
    [['-o', ' PORT=2204 '], 2204],
    [['-p', ' 2205 '], 2205],
    [['-o', 'ProxyJump=bastion', '-p', '2206'], 2206],
    [['-p', '2207', '-p', '3333'], 2207],
    [['-o', 'Port=2208', '-p', '3333'], 2208],
    [['-p', 'x', '-p', '2209'], 2209],
    [['-o', 'PortForward=1'], 22],
    [['-o', 'Port=22x'], 22],
    [['-p'], 22]
  ])('%j → %d', (opts, port) => {
    expect(sshPort(opts)).toBe(port)
  })
})
