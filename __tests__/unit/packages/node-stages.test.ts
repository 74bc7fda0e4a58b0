import { describe, it, expect } from '@jest/globals'
import { profilesOf, profileUserOverride } from '../../../src/packages/node-stages.js'
import { parseInventory } from '../../../src/plan/inventory.js'
import type { PlannedNode } from '../../../src/plan/targets.js'

function planned(over: Partial<PlannedNode> = {}): PlannedNode {
  return {
    name: 'web',
    hostname: 'web.lan',
    sshUser: 'deploy',
    sshOpts: [],
    profiles: ['system', 'home'],
    port: 22,
    targetProfiles: ['system', 'home'],
    wholeNode: true,
    profileSettings: {
      system: { user: 'root', sshUser: 'deploy', profilePath: null },
      home: { user: null, sshUser: 'deploy', profilePath: '/home/deploy/.hm' }
    },
    ...over
  }
}

describe('the profiles as activate-rs sees them', () => {
  it('user, else the ssh user; profilePath as given', () => {
    expect(profilesOf(planned(), { sshUser: null, deployArgs: [] })).toEqual([
      { name: 'system', profilePath: null, user: 'root' },
      { name: 'home', profilePath: '/home/deploy/.hm', user: 'deploy' }
    ])
  })

  it('--profile-user wins over user; the ssh-user input over sshUser', () => {
    expect(profilesOf(planned(), { sshUser: 'ci', deployArgs: [] })[1]?.user).toBe('ci')
    expect(
      profilesOf(planned(), { sshUser: 'ci', deployArgs: ['--profile-user', 'alice'] }).map(
        p => p?.user
      )
    ).toEqual(['alice', 'alice'])
    expect(profileUserOverride(['--profile-user=bob'])).toBe('bob')
    expect(profileUserOverride(['--confirm-timeout', '30'])).toBeNull()
  })

  it('no user at all: null (deploy-rs refuses such a profile too)', () => {
    const node = planned({
      sshUser: null,
      profileSettings: { system: { user: null, sshUser: null, profilePath: null } },
      targetProfiles: ['system']
    })
    expect(profilesOf(node, { sshUser: null, deployArgs: [] })).toEqual([null])
  })
})

describe('the inventory’s profile settings', () => {
  it('reads user, sshUser and profilePath per profile; junk is left out', () => {
    const [node] = parseInventory(
      {
        web: {
          hostname: 'web.lan',
          profiles: ['system', 'home', 'odd'],
          profileSettings: {
            system: { user: 'root', sshUser: null, profilePath: '/p/system' },
            home: { user: 7, sshUser: 'deploy' },
            odd: 'nonsense',
            extra: { user: 'x' }
          }
        }
      },
      '.'
    )
    expect(node?.profileSettings).toEqual({
      system: { user: 'root', sshUser: null, profilePath: '/p/system' },
      home: { user: null, sshUser: 'deploy', profilePath: null }
    })
  })
})
