import { describe, expect, it } from '@jest/globals'
import { parseInventory, PlanError, type InventoryNode } from '../../../src/plan/inventory.js'
import { resolveTargets } from '../../../src/plan/targets.js'

const inventory: InventoryNode[] = parseInventory(
  {
    web: { hostname: 'web.example.com', profiles: ['system'] },
    db: {
      hostname: 'db.example.com',
      profiles: ['app', 'system', 'x.y'],
      profilesOrder: ['system']
    },
    'a.b': { hostname: 'ab.example.com', profiles: ['system'] },
    a: { hostname: 'a.example.com', profiles: ['b.system', 'other'] }
  },
  '.'
)

/** node → targetProfiles (wholeNode marked with *), in plan order. */
function summary(targets: 'all' | string[]): string[] {
  return resolveTargets(targets, inventory).map(
    node => `${node.name}${node.wholeNode ? '*' : ''}: ${node.targetProfiles.join(' ')}`
  )
}

function planError(targets: string[], nodes: readonly InventoryNode[] = inventory): string {
  try {
    resolveTargets(targets, nodes)
  } catch (error) {
    expect(error).toBeInstanceOf(PlanError)
    return (error as Error).message
  }
  throw new Error(`resolved ${JSON.stringify(targets)}`)
}

describe('resolveTargets', () => {
  it('all: every node in the flake order, every profile in deploy order', () => {
    expect(summary('all')).toEqual([
      'a*: b.system other',
      'a.b*: system',
      'db*: system app x.y',
      'web*: system'
    ])
  })

  it('keeps the order the user wrote and the node data', () => {
    const [first, second] = resolveTargets(['web', 'db'], inventory)
    expect(first).toMatchObject({
      name: 'web',
      hostname: 'web.example.com',
      port: 22,
      wholeNode: true,
      targetProfiles: ['system']
    })
    expect(second).toMatchObject({
      name: 'db',
      wholeNode: true,
      targetProfiles: ['system', 'app', 'x.y']
    })
  })

  it('node.profile deploys that profile only', () => {
    expect(summary(['db.app'])).toEqual(['db: app'])
  })

  it('several profiles of one node: one node, its profiles in deploy order', () => {
    expect(summary(['db.app', 'web', 'db.system'])).toEqual(['db: system app', 'web*: system'])
  })

  it('a whole node wins over its profiles, whichever comes first', () => {
    expect(summary(['db.app', 'db'])).toEqual(['db*: system app x.y'])
    expect(summary(['db', 'db.app'])).toEqual(['db*: system app x.y'])
  })

  it('repeated names are deployed once', () => {
    expect(summary(['web', 'web', 'db.app', 'db.app'])).toEqual(['web*: system', 'db: app'])
  })

  it('dotted node names: exact name first, then node.profile splits, then quoted forms', () => {
    expect(summary(['a.b'])).toEqual(['a.b*: system'])
    expect(summary(['a.b.system'])).toEqual(['a: b.system'])
    expect(summary(['"a.b".system'])).toEqual(['a.b: system'])
    expect(summary(['"a.b"'])).toEqual(['a.b*: system'])
    expect(summary(['"a"."b.system"'])).toEqual(['a: b.system'])
    expect(summary(['db.x.y'])).toEqual(['db: x.y'])
    expect(summary(['db."x.y"'])).toEqual(['db: x.y'])
  })

  it('names an unknown profile and the profiles the node has', () => {
    expect(planError(['db.nope'])).toBe(
      'targets: node "db" has no profile "nope" (its profiles: system, app, x.y). The nodes are: a, a.b, db, web.'
    )
    expect(planError(['"a.b".nope'])).toMatch(/^targets: node "a\.b" has no profile "nope"/)
  })

  it('names an unknown node and lists the nodes that exist', () => {
    expect(planError(['nope'])).toBe(
      'targets: "nope" is not a node of the flake. The nodes are: a, a.b, db, web.'
    )
    expect(planError(['"c.d".system'])).toBe(
      'targets: "\\"c.d\\".system" is not a node of the flake. The nodes are: a, a.b, db, web.'
    )
  })

  it('reports every bad word at once', () => {
    expect(planError(['web', 'nope', 'db.nope', 'Web'])).toBe(
      'targets: "nope" is not a node of the flake; targets: node "db" has no profile "nope" (its profiles: system, app, x.y); targets: "Web" is not a node of the flake. The nodes are: a, a.b, db, web.'
    )
  })

  it.each(['"a.b"x', '"a.b', '"a.b"system'])('rejects the malformed quoted target %j', word => {
    expect(planError([word])).toBe(
      `targets: ${JSON.stringify(word)} is not of the form "node" or "node".profile. The nodes are: a, a.b, db, web.`
    )
  })

  it('rejects words that are not nodes, however they look', () => {
    for (const word of [
      '--hostname=evil',
      '-oProxyCommand=x',
      '$(id)',
      '../../etc',
      'web;id',
      'wéb',
      ''
    ]) {
      expect(planError([word])).toMatch(/^targets: .*The nodes are: a, a\.b, db, web\.$/)
    }
  })

  it('lists at most 40 names, quoting the unusual ones', () => {
    const many = parseInventory(
      Object.fromEntries(
        [...Array.from({ length: 44 }, (_, i) => `n${String(i).padStart(2, '0')}`), 'odd name'].map(
          name => [name, { hostname: 'h', profiles: ['p'] }]
        )
      ),
      '.'
    )
    const message = planError(['x'], many)
    expect(message).toContain('The nodes are: n00, n01,')
    expect(message).toContain('n39 and 5 more.')
    expect(message).not.toContain('n40')
    const odd = planError(
      ['x'],
      parseInventory(
        { 'odd name': { hostname: 'h', profiles: ['p'] }, ok: { hostname: 'h', profiles: ['p'] } },
        '.'
      )
    )
    expect(odd).toMatch(/The nodes are: "odd name", ok\.$/)
  })
})
