/**
 * `npm run demo`: starts the sandbox fleet (real sshd hosts on 127.0.0.x, a
 * fixture flake, the deploy-rs stand-in), runs the bundled action on it the
 * way the GitHub runner does, prints the job log and the job summary, and
 * stops everything.
 *
 *   npm run demo                 push to main: deploy 5 healthy nodes
 *   npm run demo -- --mixed      8 nodes with every kind of outcome (one unhealthy after the switch)
 *   npm run demo -- --canary     the mixed fleet with the unhealthy node as canary: the rest is skipped
 *   npm run demo -- --pr         pull request: dry-activate every node
 *   npm run demo -- --keep-summary DIR   also write summary.md (and comment.md with --pr) to DIR
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { startFleet, type FleetNodeSpec } from '../test-support/fleet/index.js'
import { startFakeGitHub } from '../test-support/github-api/server.js'
import { removeRunDirs, runAction } from '../test-support/action/run-action.js'

const args = process.argv.slice(2)
const canary = args.includes('--canary')
const mixed = args.includes('--mixed') || canary
const pullRequest = args.includes('--pr')
const keepIndex = args.indexOf('--keep-summary')
const keepDir = keepIndex === -1 ? null : args[keepIndex + 1]

/**
 * What each node runs and gets: real store paths (test-support/fleet
 * profiles.ts), a fleet update as it looks: the same kernel and openssl on
 * every node, and a few changes of each node's own.
 */
const COMMON_BEFORE = { linux: '6.6.30', openssl: '3.0.13', systemd: '255.4', bash: '5.2p26' }
const COMMON_AFTER = { linux: '6.6.31', openssl: '3.0.14', systemd: '255.4', bash: '5.2p26' }
function generations(
  before: Record<string, string>,
  after: Record<string, string>,
  grows = 0
): FleetNodeSpec['generations'] {
  return {
    current: {
      packages: { ...COMMON_BEFORE, ...before },
      extras: ['etc', 'system-units'],
      payloadBytes: { 'linux-6.6.30': 60_000 }
    },
    next: {
      packages: { ...COMMON_AFTER, ...after },
      extras: ['etc', 'system-units'],
      rebuilt: ['etc', 'system-units'],
      payloadBytes: { 'linux-6.6.31': 61_000 + grows }
    }
  }
}

const healthy: FleetNodeSpec[] = [
  {
    name: 'sleeper-service',
    hostCostMs: 300,
    changes: { restart: ['nginx.service'], reload: ['dbus.service'] },
    generations: generations({ nginx: '1.26.1' }, { nginx: '1.26.2' })
  },
  {
    name: 'grey-area',
    hostCostMs: 500,
    changes: { stop: ['old-app.service'], start: ['forgejo.service'], restartSystemd: true },
    generations: generations(
      { gitea: '1.21.11', git: '2.44.0' },
      { forgejo: '7.0.4', git: '2.45.1' },
      1_200_000
    )
  },
  {
    name: 'reverse-proxy',
    hostCostMs: 200,
    changes: { restart: ['caddy.service'] },
    generations: generations({ caddy: '2.8.4' }, { caddy: '2.7.6' })
  },
  { name: 'little-rascal', hostCostMs: 400, generations: generations({}, {}) },
  {
    name: 'limiting-factor',
    hostCostMs: 300,
    changes: { reload: ['sshd.service'] },
    generations: generations({ openssh: '9.7p1', python3: '3.11.9' }, { openssh: '9.8p1' })
  }
]
const extra: FleetNodeSpec[] = [
  // activation fails; activate-rs puts the previous generation back (autoRollback, the default)
  {
    name: 'congenital-optimist',
    behaviour: pullRequest ? 'dry-pre-switch-fails' : 'activation-fails',
    hostCostMs: 200,
    generations: generations({}, {})
  },
  { name: 'offline-pi', kind: 'down' },
  // deployed and confirmed, but nginx does not come back after the switch: unhealthy
  {
    name: 'frontline-web',
    hostCostMs: 300,
    changes: { restart: ['nginx.service'] },
    generations: generations({ nginx: '1.26.1' }, { nginx: '1.27.0' }),
    systemd: {
      failedBefore: ['fstrim.service'],
      failedAfter: ['fstrim.service', 'nginx.service'],
      journal: {
        'nginx.service': [
          'Dec 02 09:14:02 frontline-web systemd[1]: Starting Nginx Web Server...',
          'Dec 02 09:14:02 frontline-web nginx-pre-start[2314]: nginx: [emerg] unknown directive "proxy_pas" in /etc/nginx/nginx.conf:41',
          'Dec 02 09:14:02 frontline-web nginx-pre-start[2314]: nginx: configuration file /etc/nginx/nginx.conf test failed',
          'Dec 02 09:14:02 frontline-web systemd[1]: nginx.service: Control process exited, code=exited, status=1/FAILURE',
          "Dec 02 09:14:02 frontline-web systemd[1]: nginx.service: Failed with result 'exit-code'.",
          'Dec 02 09:14:02 frontline-web systemd[1]: Failed to start Nginx Web Server.'
        ]
      }
    }
  }
]
const nodes = mixed ? [...healthy, ...extra] : healthy

const fleet = await startFleet({ nodes })
const api = await startFakeGitHub()
let exitCode = 1
try {
  console.log(
    `Sandbox fleet: ${fleet.hosts.map(h => `${h.name}@${h.address}:${h.port}`).join(', ')}`
  )
  console.log(`Flake: ${fleet.flakeDir}\n`)
  const run = await runAction({
    inputs: {
      targets: 'all',
      flake: fleet.flakeDir,
      'ssh-private-key': fleet.clientKey.privateKeyText,
      'github-token': 'demo-token-not-a-secret',
      'keyscan-timeout': '2',
      parallel: '4',
      'pr-comment': 'auto',
      ...(canary ? { canary: 'frontline-web' } : {})
    },
    eventName: pullRequest ? 'pull_request' : 'push',
    eventPayload: pullRequest
      ? {
          pull_request: {
            number: 12,
            head: {
              sha: '0123456789abcdef0123456789abcdef01234567',
              repo: { full_name: 'octo/homelab' }
            }
          }
        }
      : {},
    env: { ...fleet.env, PATH: `${fleet.binDir}:${process.env.PATH}`, GITHUB_API_URL: api.url }
  })
  console.log('──────── job log ────────')
  process.stdout.write(run.main.stdout)
  console.log('──────── outputs ────────')
  for (const [name, value] of Object.entries(run.outputs))
    console.log(`${name}: ${value.length > 300 ? `${value.slice(0, 300)}…` : value}`)
  console.log('──────── job summary (Markdown) ────────')
  console.log(run.summary)
  const comment = api.requests.find(r => r.method === 'POST' && r.path.endsWith('/comments'))
  if (comment) {
    console.log('──────── PR comment ────────')
    console.log((comment.body as { body: string }).body)
  }
  if (keepDir) {
    await mkdir(keepDir, { recursive: true })
    await writeFile(join(keepDir, 'summary.md'), run.summary)
    if (comment)
      await writeFile(join(keepDir, 'comment.md'), (comment.body as { body: string }).body)
  }
  console.log(
    `Main step exit code ${run.main.code} (${mixed ? 'mixed run: failures expected' : 'expected 0'}), post step exit code ${run.post?.code}.`
  )
  exitCode = mixed ? (run.main.code === 1 ? 0 : 1) : (run.main.code ?? 1)
} finally {
  await api.stop()
  await fleet.stop()
  await removeRunDirs()
}
process.exit(exitCode)
