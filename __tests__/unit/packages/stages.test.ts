import { describe, it, expect } from '@jest/globals'
import {
  readCurrentGenerations,
  readNodePackages,
  type RemoteAnswer,
  type RemoteRequest
} from '../../../src/packages/stages.js'
import type { CurrentGeneration } from '../../../src/packages/remote.js'

const OLD = `/nix/store/${'a'.repeat(32)}-system`
const NEW = `/nix/store/${'b'.repeat(32)}-system`
const SYSTEM = { name: 'system', profilePath: null, user: 'root' }

function fakeHost(answer: (request: RemoteRequest) => RemoteAnswer) {
  const requests: RemoteRequest[] = []
  return {
    requests,
    run: async (request: RemoteRequest) => {
      requests.push(request)
      return answer(request)
    }
  }
}

/** Answers the marker-framed commands as a host would, from the command's own marker. */
const marker = (command: string) => /M='([^']+)'/.exec(command)?.[1] ?? ''

describe('packages stages', () => {
  it('a host that cannot be asked: every profile unknown, saying why', async () => {
    const host = fakeHost(() => ({
      kind: 'exited',
      exitCode: 255,
      stdout: '',
      stderr: 'ssh: connect to host 10.0.0.1 port 22: Connection refused\n'
    }))
    expect(await readCurrentGenerations([SYSTEM], host.run)).toEqual([
      {
        profile: 'system',
        profilePath: null,
        storePath: null,
        reason:
          "could not ask the host: the host's command exited with 255: ssh: connect to host 10.0.0.1 port 22: Connection refused"
      }
    ])
  })

  it('reads the current generation from the framed answer', async () => {
    const host = fakeHost(request => ({
      kind: 'exited',
      exitCode: 0,
      stdout: `${marker(request.command)} path 0 /nix/var/nix/profiles/system\n${marker(request.command)} current 0 ${OLD}\n`,
      stderr: ''
    }))
    expect(await readCurrentGenerations([SYSTEM], host.run)).toEqual([
      {
        profile: 'system',
        profilePath: '/nix/var/nix/profiles/system',
        storePath: OLD,
        reason: null
      }
    ])
    expect(host.requests[0]?.timeoutMs).toBeGreaterThan(0)
  })

  const known: CurrentGeneration = {
    profile: 'system',
    profilePath: '/p',
    storePath: OLD,
    reason: null
  }

  it('no current generation: no second command, the note says why', async () => {
    const host = fakeHost(() => ({ kind: 'broken', message: 'not called' }))
    const result = await readNodePackages(
      [{ profile: 'system', profilePath: '/p', storePath: null, reason: 'no generation at /p' }],
      [NEW],
      host.run
    )
    expect(result).toEqual({
      packages: null,
      note: 'current generation of system unknown: no generation at /p'
    })
    expect(host.requests).toEqual([])
  })

  it('a new path the plan did not give: unknown', async () => {
    const host = fakeHost(() => ({ kind: 'broken', message: 'not called' }))
    expect(await readNodePackages([known], [null], host.run)).toEqual({
      packages: null,
      note: "new path of system unknown: not in deploy-rs's plan"
    })
  })

  it('lists both closures in one command and diffs them', async () => {
    const host = fakeHost(request => {
      const m = marker(request.command)
      return {
        kind: 'exited',
        exitCode: 0,
        stdout: [
          `${m} begin 0 path-info`,
          `${OLD} 10`,
          `/nix/store/${'c'.repeat(32)}-openssl-3.0.13 100`,
          `${m} end 0 path-info 0`,
          `${m} begin 1 path-info`,
          `${NEW} 10`,
          `/nix/store/${'d'.repeat(32)}-openssl-3.0.14 90`,
          `${m} end 1 path-info 0`
        ].join('\n'),
        stderr: ''
      }
    })
    expect(await readNodePackages([known], [NEW], host.run)).toEqual({
      packages: {
        upgraded: [{ name: 'openssl', from: '3.0.13', to: '3.0.14' }],
        downgraded: [],
        added: [],
        removed: [],
        sizeDelta: -10
      },
      note: null
    })
    expect(host.requests).toHaveLength(1)
    expect(host.requests[0]?.command).toContain(`list 0 '${OLD}'`)
    expect(host.requests[0]?.command).toContain(`list 1 '${NEW}'`)
  })

  it('a timed-out listing: unknown, not a failure', async () => {
    const host = fakeHost(() => ({ kind: 'timed-out', stdout: '', stderr: '' }))
    expect(await readNodePackages([known], [NEW], host.run)).toEqual({
      packages: null,
      note: 'closures not listed: the host did not answer in time'
    })
  })
})
