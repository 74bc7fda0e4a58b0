/**
 * What a change really changes, end to end: the bundled action against
 * sandbox hosts whose profiles hold real generations (test-support/fleet
 * profiles.ts). Before deploy-rs each host says where its profile points;
 * after the push it lists both closures; `results[].packages`, the summary
 * and the PR comment show the difference.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import {
  largeGenerationContents,
  startFleet,
  type Fleet,
  type GenerationContents
} from '../../test-support/fleet/index.js'
import { startFakeGitHub, type FakeGitHub } from '../../test-support/github-api/server.js'
import { removeRunDirs, type ActionRun } from '../../test-support/action/run-action.js'
import { runOnFleet, statuses } from '../../test-support/action/fleet-run.js'
import { timingTable } from '../../test-support/action/timings.js'

const OWNER = 'octo'
const REPO = 'homelab'
const SHA = '0123456789abcdef0123456789abcdef01234567'

const BASE = { linux: '6.6.30', openssl: '3.0.13', nginx: '1.26.1', curl: '8.7.1' }
const gen = (
  packages: Record<string, string>,
  more: Partial<GenerationContents> = {}
): GenerationContents => ({
  packages,
  extras: ['etc', 'system-units'],
  references: packages.nginx
    ? { [`nginx-${packages.nginx}`]: [`openssl-${packages.openssl}`] }
    : {},
  ...more
})
const CURRENT = gen(BASE)
const withoutCurl = Object.fromEntries(Object.entries(BASE).filter(([name]) => name !== 'curl'))

const timings = timingTable('packages scenario')
afterAll(() => timings.print())

let fleet: Fleet
let api: FakeGitHub

beforeAll(async () => {
  api = await startFakeGitHub()
  fleet = await startFleet({
    nodes: [
      {
        name: 'up',
        generations: {
          current: CURRENT,
          next: gen(
            { ...BASE, linux: '6.6.31', openssl: '3.0.14' },
            { payloadBytes: { 'linux-6.6.31': 3072 } }
          )
        }
      },
      {
        name: 'down',
        generations: {
          current: CURRENT,
          next: gen({ ...BASE, nginx: '1.24.0', openssl: '3.0.14' })
        }
      },
      {
        name: 'added',
        generations: {
          current: CURRENT,
          next: gen({ ...BASE, forgejo: '7.0.1', openssl: '3.0.14' })
        }
      },
      {
        name: 'removed',
        generations: { current: CURRENT, next: gen({ ...withoutCurl, openssl: '3.0.14' }) }
      },
      {
        name: 'same',
        generations: {
          current: CURRENT,
          next: gen(BASE, { rebuilt: ['etc'], payloadBytes: { etc: 4096 } })
        }
      },
      { name: 'first', generations: { current: null, next: CURRENT } },
      { name: 'gone', kind: 'down' },
      {
        name: 'broken',
        behaviour: 'activation-fails',
        generations: { current: CURRENT, next: gen({ ...BASE, openssl: '3.0.14' }) }
      },
      {
        name: 'big',
        generations: {
          current: largeGenerationContents(5000, 1),
          next: largeGenerationContents(5000, 2)
        }
      }
    ]
  })
}, 120_000)

afterAll(async () => {
  await fleet?.stop()
  await api?.stop()
  await removeRunDirs()
})

function packagesOf(run: ActionRun): Record<string, unknown> {
  return Object.fromEntries(run.results.map(r => [String(r.node), r.packages]))
}

async function timed(what: string, step: () => Promise<ActionRun>): Promise<ActionRun> {
  const started = performance.now()
  const run = await step()
  timings.record(what, Object.values(statuses(run)).join(', '), performance.now() - started)
  return run
}

const OPENSSL = { name: 'openssl', from: '3.0.13', to: '3.0.14' }

describe('packages per node', () => {
  let dry: ActionRun

  beforeAll(async () => {
    dry = await timed('dry run on a PR, 4 nodes with the same openssl update', () =>
      runOnFleet(fleet, {
        eventName: 'pull_request',
        eventPayload: {
          pull_request: { number: 9, head: { sha: SHA, repo: { full_name: `${OWNER}/${REPO}` } } }
        },
        inputs: {
          targets: 'up, down, added, removed',
          'skip-checks': 'true',
          'pr-comment': 'auto'
        },
        env: { GITHUB_API_URL: api.url }
      })
    )
  }, 120_000)

  it('dry run: upgraded, downgraded, added, removed, in results', () => {
    expect(statuses(dry)).toEqual({
      up: 'dry-run',
      down: 'dry-run',
      added: 'dry-run',
      removed: 'dry-run'
    })
    const packages = packagesOf(dry)
    expect(packages.up).toMatchObject({
      upgraded: [{ name: 'linux', from: '6.6.30', to: '6.6.31' }, OPENSSL],
      downgraded: [],
      added: [],
      removed: []
    })
    expect(packages.down).toMatchObject({
      upgraded: [OPENSSL],
      downgraded: [{ name: 'nginx', from: '1.26.1', to: '1.24.0' }]
    })
    expect(packages.added).toMatchObject({ added: [{ name: 'forgejo', version: '7.0.1' }] })
    expect(packages.removed).toMatchObject({ removed: [{ name: 'curl', version: '8.7.1' }] })
    for (const diff of Object.values(packages)) {
      expect(typeof (diff as { sizeDelta: unknown }).sizeDelta).toBe('number')
    }
  })

  it('the PR comment and the summary: a Packages column, the shared change said once', () => {
    const comment = api.comments(OWNER, REPO, 9).at(-1)?.body ?? ''
    for (const text of [comment, dry.summary]) {
      expect(text).toContain('| Packages |')
      expect(text).toMatch(/\| up \| .* \| 2&nbsp;↑ · 0&nbsp;\+ · 0&nbsp;− · \+3\.0&nbsp;KiB \|/)
      expect(text).toContain('On all 4 nodes')
      expect(text).toContain('openssl 3.0.13 → 3.0.14')
      expect(text.match(/openssl 3\.0\.13 → 3\.0\.14/g)).toHaveLength(1)
      expect(text).toContain('linux 6.6.30 → 6.6.31')
      expect(text).toContain('nginx 1.26.1 → 1.24.0 (downgrade)')
      expect(text).toContain('\\+ forgejo 7.0.1')
      expect(text).toContain('− curl 8.7.1')
    }
  })

  it('a dry run changes no profile', async () => {
    expect(await fleet.currentGeneration('up')).toBe(
      fleet.host('up').profiles.system!.current!.topLevel
    )
  })

  it('deploy: unchanged packages with a size change, a first deploy, an unreachable node', async () => {
    const run = await timed('deploy: same, first, gone, broken', () =>
      runOnFleet(fleet, { inputs: { targets: 'same, first, gone, broken', 'skip-checks': 'true' } })
    )
    expect(statuses(run)).toEqual({
      same: 'deployed',
      first: 'deployed',
      gone: 'unreachable',
      broken: 'rolled-back'
    })
    // The activation failed after the push: what it would have changed is still known.
    expect(packagesOf(run).broken).toMatchObject({ upgraded: [OPENSSL] })
    expect(run.summary).toMatch(/\| broken \| .* \| 1&nbsp;↑ · 0&nbsp;\+ · 0&nbsp;− · ±0&nbsp;B \|/)
    expect(run.summary).toMatch(/\| gone \| .* \| — \|\n/)
    const packages = packagesOf(run)
    expect(packages.same).toEqual({
      upgraded: [],
      downgraded: [],
      added: [],
      removed: [],
      sizeDelta: expect.any(Number)
    })
    expect((packages.same as { sizeDelta: number }).sizeDelta).toBeGreaterThan(4000)
    expect(packages.first).toBeNull()
    expect(packages.gone).toBeNull()
    expect(run.summary).toContain('no package changes')
    expect(run.summary).toContain(
      `**first**: packages unknown: current generation of system unknown: no generation at ${fleet.host('first').profiles.system!.location}`
    )

    // Deployed again: the host now runs the new generation, nothing changes.
    const again = await runOnFleet(fleet, { inputs: { targets: 'first', 'skip-checks': 'true' } })
    expect(packagesOf(again).first).toEqual({
      upgraded: [],
      downgraded: [],
      added: [],
      removed: [],
      sizeDelta: 0
    })
  }, 120_000)

  it('two 5,000-path closures', async () => {
    const run = await timed('dry run, two 5,000-path closures', () =>
      runOnFleet(fleet, { inputs: { targets: 'big', 'skip-checks': 'true', 'dry-run': 'true' } })
    )
    const big = packagesOf(run).big as { upgraded: unknown[] }
    expect(big.upgraded).toHaveLength(500)
    expect(run.summary).toMatch(/and \d+ more/)
  }, 120_000)
})
