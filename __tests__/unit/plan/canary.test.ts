import { describe, expect, it } from '@jest/globals'
import { PlanError } from '../../../src/plan/inventory.js'
import { canaryVerdict, resolveCanaries } from '../../../src/plan/canary.js'
import type { PlannedNode } from '../../../src/plan/targets.js'

function node(name: string, profiles = ['system']): PlannedNode {
  return {
    name,
    hostname: `${name}.lan`,
    sshUser: null,
    sshOpts: [],
    profiles,
    port: 22,
    targetProfiles: profiles,
    wholeNode: true
  }
}

const planned = [node('db'), node('proxy.lan', ['system', 'web']), node('web')]

describe('resolveCanaries', () => {
  it('takes names with the syntax of targets, in plan order', () => {
    expect(resolveCanaries(['web', '"proxy.lan"'], planned).map(n => n.name)).toEqual([
      'proxy.lan',
      'web'
    ])
    expect(resolveCanaries(['proxy.lan.web'], planned).map(n => n.name)).toEqual(['proxy.lan'])
    expect(resolveCanaries([], planned)).toEqual([])
  })

  it('refuses a canary that is not in targets, listing the targeted nodes', () => {
    expect(() => resolveCanaries(['web', 'mail'], planned)).toThrow(PlanError)
    expect(() => resolveCanaries(['web', 'mail'], planned)).toThrow(
      'canary: "mail" is not a node of this run\'s targets; a canary must also be in targets. The targeted nodes are: db, proxy.lan, web.'
    )
  })
})

describe('canaryVerdict', () => {
  it('lets the rest start only when every canary is deployed', () => {
    expect(canaryVerdict([{ node: 'web', status: 'deployed' }])).toBeNull()
    expect(
      canaryVerdict([
        { node: 'web', status: 'deployed' },
        { node: 'db', status: 'unhealthy' }
      ])
    ).toBe('not started: canary db ended unhealthy')
    // a dry run with a canary: the canary's dry run must pass first
    expect(canaryVerdict([{ node: 'web', status: 'dry-run' }])).toBeNull()
    expect(canaryVerdict([{ node: 'web', status: 'failed' }])).toBe(
      'not started: canary web ended failed'
    )
  })
})
