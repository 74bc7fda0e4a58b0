/**
 * The sandbox fleet: local sshd "hosts" on 127.0.0.N, a fixture flake that
 * points at them, and a deploy-rs stand-in (test-support/deploy-rs-stand-in)
 * that really pushes/activates over ssh. Start it with startFleet(), always
 * stop() it. See README.md beside this file.
 */
import {
  appendFile,
  chmod,
  chown,
  mkdir,
  mkdtemp,
  readFile,
  realpath,
  rm,
  writeFile
} from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startBlackhole, type Blackhole } from './blackhole.js'
import { writeBinDir, findRealNix } from './bin-dir.js'
import { readCalls } from './calls-log.js'
import { renderFlake } from './flake.js'
import { startNixDaemon, type FleetNixDaemon } from './nix-daemon.js'
import { prepareProfiles } from './profiles.js'
import { generateKeyFile } from './keys.js'
import {
  cleanUpAbandonedFleets,
  endProcesses,
  findFleetProcesses,
  FLEET_DIR_PREFIX,
  ownerFile,
  SCENARIO_ENV
} from './leftover-processes.js'
import { resolveLoginUser, type LoginUser } from './login-user.js'
import { defaultBasePort, PortPicker } from './ports.js'
import { scenarioNode, setNodeBehaviour, writeScenario } from './scenario.js'
import { startSshdHost, type SshdHost } from './sshd-host.js'
import {
  fakeSystemdCalls,
  sessionPath,
  setFakeSystemd,
  writeFakeSystemdTools
} from './fake-systemd.js'
import { watchListenerRequests } from './listener-switch.js'
import type {
  Fleet,
  FleetHost,
  FleetNodeSpec,
  HostKind,
  ScenarioFile,
  StartFleetOptions
} from './types.js'

export type * from './types.js'
export { makeKey, type KeyPair, type MakeKeyOptions } from './keys.js'
export { fakeStorePath } from './flake.js'
export { DEFAULT_GENERATIONS, largeGenerationContents, profileLocation } from './profiles.js'
export type { Generation, GenerationSpec } from './closures.js'

const here = dirname(fileURLToPath(import.meta.url))
const STAND_IN_DIR = resolve(here, '../deploy-rs-stand-in')

/** Env variables read by the stand-in and the nix wrapper. */
export { SCENARIO_ENV }
export const CALLS_ENV = 'DEPLOY_RS_STAND_IN_CALLS'
export const REAL_NIX_ENV = 'DEPLOY_RS_STAND_IN_REAL_NIX'

/** A node name as a directory name (names may hold dots, slashes, quotes...). */
function safeDirName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, c => `%${c.charCodeAt(0).toString(16)}`)
}

function validate(nodes: FleetNodeSpec[], firstAddress: number): void {
  const seen = new Set<string>()
  for (const node of nodes) {
    if (!node.name) throw new Error('startFleet: a node has an empty name')
    if (seen.has(node.name)) throw new Error(`startFleet: node ${node.name} given twice`)
    seen.add(node.name)
  }
  if (firstAddress < 1 || firstAddress + nodes.length - 1 > 253) {
    throw new Error(
      'startFleet: addresses must stay within 127.0.0.1-127.0.0.253 (127.0.0.254 is for down hosts)'
    )
  }
}

/** Client options that reach fleet hosts strictly and never touch ~/.ssh. */
const STRICT_CLIENT_OPTIONS = (knownHostsPath: string): [string, string][] => [
  ['StrictHostKeyChecking', 'yes'],
  ['UserKnownHostsFile', knownHostsPath],
  ['GlobalKnownHostsFile', '/dev/null'],
  ['BatchMode', 'yes'],
  ['IdentitiesOnly', 'yes'],
  ['ControlMaster', 'no'], // multiplexing breaks magic rollback (deploy-rs #106)
  ['ConnectTimeout', '5']
]

/** An ssh config with every host's port: `--ssh-opts "-F FILE"` then reaches any node. */
function renderSshConfig(hosts: FleetHost[], knownHostsPath: string, keyPath: string): string {
  const lines: string[] = []
  for (const h of hosts) lines.push(`Host ${h.address}`, `  Port ${h.port}`)
  lines.push('Host *', `  IdentityFile ${keyPath}`)
  for (const [k, v] of STRICT_CLIENT_OPTIONS(knownHostsPath)) lines.push(`  ${k} ${v}`)
  return lines.join('\n') + '\n'
}

interface RunningHost {
  host: FleetHost
  stop(): Promise<void>
}

async function startHost(
  spec: FleetNodeSpec,
  address: string,
  stateDir: string,
  configDir: string,
  ports: PortPicker,
  authorizedKeysPath: string,
  user: LoginUser,
  path: string,
  sessionEnv: Readonly<Record<string, string>>
): Promise<RunningHost> {
  const kind: HostKind = spec.kind ?? 'sshd'
  const base = { name: spec.name, kind, address, stateDir }
  if (kind === 'sshd') {
    const allowUsers = user.name === 'root' ? ['root'] : [user.name, 'root']
    const sshd: SshdHost = await startSshdHost({
      address,
      ports,
      configDir,
      stateDir,
      authorizedKeysPath,
      allowUsers,
      sessionPath: path,
      sessionEnv
    })
    const host: FleetHost = {
      ...base,
      port: sshd.port,
      hostKeyLine: sshd.hostKeyLine,
      pid: sshd.pid,
      profiles: {}
    }
    const listenerSwitch = watchListenerRequests(stateDir, sshd, pid => (host.pid = pid))
    return {
      host,
      stop: () => {
        listenerSwitch.close()
        return sshd.stop()
      }
    }
  }
  if (kind === 'blackhole') {
    for (let attempt = 0; ; attempt++) {
      const port = await ports.pick(address)
      let blackhole: Blackhole
      try {
        blackhole = await startBlackhole(address, port)
      } catch (err) {
        if (attempt < 5 && (err as NodeJS.ErrnoException).code === 'EADDRINUSE') continue
        throw err
      }
      return {
        host: { ...base, port, hostKeyLine: null, pid: null, profiles: {} },
        stop: () => blackhole.stop()
      }
    }
  }
  // down: an address and port with nothing listening (connection refused). Not the node's own
  // 127.0.0.N: another fleet (a parallel jest worker) may start an sshd there on the same port,
  // and the "down" host would answer. No fleet puts hosts on DOWN_ADDRESS.
  const port = await ports.pick(DOWN_ADDRESS)
  return {
    host: { ...base, address: DOWN_ADDRESS, port, hostKeyLine: null, pid: null, profiles: {} },
    stop: async () => undefined
  }
}

/** Where every fleet's "down" hosts point: below it, hosts are numbered from 127.0.0.2. */
const DOWN_ADDRESS = '127.0.0.254'

export async function startFleet(opts: StartFleetOptions): Promise<Fleet> {
  const firstAddress = opts.firstAddress ?? 2
  validate(opts.nodes, firstAddress)
  const user = resolveLoginUser()
  const notes: string[] = []
  if (user.fallbackReason) {
    notes.push(user.fallbackReason)
    process.stderr.write(`sandbox fleet: ${user.fallbackReason}\n`)
  }
  const chownToUser = async (path: string): Promise<void> => {
    if (process.getuid?.() === 0 && user.uid !== 0) await chown(path, user.uid, user.gid)
  }

  await cleanUpAbandonedFleets(tmpdir())
  const dir = await mkdtemp(join(tmpdir(), FLEET_DIR_PREFIX))
  await writeFile(ownerFile(dir), `${process.pid}\n`)
  // The login user must reach authorized_keys and its host dirs.
  await chmod(dir, 0o755)
  const running: RunningHost[] = []
  const scenarioPath = join(dir, 'scenario.json')
  let stopped = false
  let nixDaemon: FleetNixDaemon | null = null
  const stop = async (): Promise<void> => {
    if (stopped) return
    stopped = true
    // Our sshds (by their child handles), black holes, then everything else
    // that carries this fleet's dir: stand-in runs left behind, their ssh
    // clients, commands still running on the hosts.
    await Promise.all(running.map(r => r.stop()))
    await nixDaemon?.stop()
    await endProcesses(await findFleetProcesses(dir))
    await rm(dir, { recursive: true, force: true, maxRetries: 3 })
  }

  try {
    const clientDir = join(dir, 'client')
    const flakeDir = join(dir, 'flake')
    const binDir = join(dir, 'bin')
    await Promise.all([clientDir, flakeDir, binDir].map(d => mkdir(d, { recursive: true })))
    await chmod(clientDir, 0o700)

    const privateKeyPath = join(clientDir, 'id_ed25519')
    const clientKeyPair = await generateKeyFile(privateKeyPath, {
      type: 'ed25519',
      comment: 'deployrs-fleet-client'
    })
    const authorizedKeysPath = join(dir, 'authorized_keys')
    await writeFile(
      authorizedKeysPath,
      [clientKeyPair.publicKey, ...(opts.authorizedKeys ?? [])].map(k => k.trim() + '\n').join('')
    )
    await chmod(authorizedKeysPath, 0o644)

    const daemonStart = await startNixDaemon(dir)
    if (daemonStart.daemon === null) notes.push(daemonStart.reason)
    nixDaemon = daemonStart.daemon
    const ports = new PortPicker(opts.basePort ?? defaultBasePort())
    const systemdTools = await writeFakeSystemdTools(dir)
    const hostBinDir = (i: number): string => join(dir, 'session-bin', String(i))
    const stateDirs = opts.nodes.map(spec => join(dir, 'hosts', safeDirName(spec.name)))
    for (const stateDir of stateDirs) {
      await mkdir(stateDir, { recursive: true })
      await chownToUser(stateDir)
    }
    // The profiles first: a host's systemd state takes the generations it holds as "before".
    const nodeProfiles = await prepareProfiles(
      opts.nodes.map((spec, i) => ({ spec, stateDir: stateDirs[i]! })),
      process.getuid?.() === 0 && user.uid !== 0 ? { uid: user.uid, gid: user.gid } : null
    )
    const started = await Promise.allSettled(
      opts.nodes.map(async (spec, i) => {
        const stateDir = stateDirs[i]!
        await setFakeSystemd(
          stateDir,
          hostBinDir(i),
          systemdTools.toolsDir,
          spec.systemd,
          chownToUser
        )
        const host = await startHost(
          spec,
          `127.0.0.${firstAddress + i}`,
          stateDir,
          join(dir, 'sshd', String(i)),
          ports,
          authorizedKeysPath,
          user,
          sessionPath(hostBinDir(i), systemdTools.usrBinShadow),
          nixDaemon?.env ?? {}
        )
        running.push(host)
        return host.host
      })
    )
    const failed = started.find(r => r.status === 'rejected')
    if (failed) throw (failed as PromiseRejectedResult).reason
    const hosts = started.map(r => (r as PromiseFulfilledResult<FleetHost>).value)

    const knownHostsPath = join(dir, 'known_hosts')
    await writeFile(
      knownHostsPath,
      hosts.flatMap(h => (h.hostKeyLine ? [h.hostKeyLine + '\n'] : [])).join('')
    )
    const sshConfigPath = join(dir, 'ssh_config')
    await writeFile(sshConfigPath, renderSshConfig(hosts, knownHostsPath, privateKeyPath))

    hosts.forEach((h, i) => (h.profiles = nodeProfiles[i]!))
    await writeFile(
      join(flakeDir, 'flake.nix'),
      renderFlake(
        opts.nodes.map((spec, i) => ({
          name: spec.name,
          hostname: hosts[i]!.address,
          port: hosts[i]!.port,
          sshUser: spec.sshUser === undefined ? user.name : spec.sshUser,
          profiles: (spec.profiles ?? ['system']).map(name => ({
            name,
            path: nodeProfiles[i]![name]!.next.topLevel,
            profilePath: nodeProfiles[i]![name]!.profilePath
          })),
          autoRollback: spec.autoRollback,
          magicRollback: spec.magicRollback
        }))
      )
    )

    const scenario: ScenarioFile = {
      nodes: Object.fromEntries(opts.nodes.map(spec => [spec.name, scenarioNode(spec)]))
    }
    await writeScenario(scenarioPath, scenario)
    const callsPath = join(dir, 'calls.jsonl')
    await writeFile(callsPath, '')

    const env = {
      [SCENARIO_ENV]: scenarioPath,
      [CALLS_ENV]: callsPath,
      [REAL_NIX_ENV]: findRealNix(binDir)
    }
    const standInCommand = [process.execPath, join(STAND_IN_DIR, 'deploy.mjs')]
    await writeBinDir({
      binDir,
      env,
      standInCommand,
      nixWrapperCommand: [process.execPath, join(STAND_IN_DIR, 'nix-wrapper.mjs')]
    })

    const host = (node: string): FleetHost => {
      const found = hosts.find(h => h.name === node)
      if (!found) throw new Error(`no node ${node} in the fleet`)
      return found
    }

    return {
      dir,
      flakeDir,
      loginUser: user.name,
      clientKey: {
        privateKeyPath,
        privateKeyText: clientKeyPair.privateKeyText,
        publicKey: clientKeyPair.publicKey
      },
      hosts,
      knownHostsPath,
      sshConfigPath,
      standInCommand,
      binDir,
      env,
      notes,
      host,
      sshOptsFor: node => [
        '-F', '/dev/null',
        ...STRICT_CLIENT_OPTIONS(knownHostsPath).flatMap(([k, v]) => ['-o', `${k}=${v}`]),
        '-i', privateKeyPath,
        '-p', String(host(node).port)
      ], // prettier-ignore
      calls: () => readCalls(callsPath),
      hostLog: async node => {
        const text = await readFile(join(host(node).stateDir, 'log'), 'utf8').catch(() => '')
        return text.split('\n').filter(line => line !== '')
      },
      currentGeneration: async (node, profile = 'system') => {
        const found = host(node).profiles[profile]
        if (!found) throw new Error(`node ${node} has no profile ${profile}`)
        return realpath(found.location).catch(() => null)
      },
      setBehaviour: (node, behaviour) => setNodeBehaviour(scenarioPath, node, behaviour),
      setSystemd: (node, spec) =>
        setFakeSystemd(
          host(node).stateDir,
          hostBinDir(hosts.indexOf(host(node))),
          systemdTools.toolsDir,
          spec,
          chownToUser
        ),
      systemdCalls: node => fakeSystemdCalls(host(node).stateDir),
      sessions: async node => {
        const log = join(dir, 'sshd', String(hosts.indexOf(host(node))), 'sshd.log')
        const text = await readFile(log, 'utf8').catch(() => '')
        return text.split('\n').filter(line => line.includes('Accepted publickey for ')).length
      },
      authorizeKey: line => appendFile(authorizedKeysPath, line.trim() + '\n'),
      stop
    }
  } catch (err) {
    await stop()
    throw err
  }
}
