/**
 * One fleet host = one `sshd -D -e -f CFG` on its own loopback address and
 * port, with its own host key. Remote commands learn their host's state dir
 * from FLEET_HOST_DIR (sshd's SetEnv), so one machine can play many hosts.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyFile, knownHostsLine } from './keys.js'
import { stopChild, waitForTcp } from './processes.js'
import type { PortPicker } from './ports.js'

const SSHD = '/usr/sbin/sshd' // sshd re-executes itself: it must be an absolute path
const START_TIMEOUT_MS = 5000
const BIND_ATTEMPTS = 5

export interface SshdHostOptions {
  address: string
  ports: PortPicker
  /** private dir for the config, host key and sshd's own log */
  configDir: string
  /** FLEET_HOST_DIR of the host's remote commands (already writable by the login user) */
  stateDir: string
  authorizedKeysPath: string
  allowUsers: string[]
  /** PATH of the sessions (sshd's default when undefined) */
  sessionPath?: string
  /** more variables for the host's sessions (e.g. the fleet's nix daemon), besides FLEET_HOST_DIR and PATH */
  sessionEnv?: Readonly<Record<string, string>>
}

export interface SshdHost {
  port: number
  pid: number
  hostKeyLine: string
  /** Stops listening (new connections are refused); open sessions go on. */
  closeListener(): Promise<void>
  /** Listens again on the same address, port and host key; resolves to the new sshd's pid. */
  reopenListener(): Promise<number | null>
  stop(): Promise<void>
}

/** FLEET_HOST_DIR, PATH and whatever else the host's sessions get, as NAME=VALUE. */
function sessionVariables(o: SshdHostOptions): string[] {
  return [
    `FLEET_HOST_DIR=${o.stateDir}`,
    ...(o.sessionPath ? [`PATH=${o.sessionPath}`] : []),
    ...Object.entries(o.sessionEnv ?? {}).map(([name, value]) => `${name}=${value}`)
  ]
}

function renderConfig(o: SshdHostOptions, port: number, hostKeyPath: string): string {
  return [
    `ListenAddress ${o.address}`,
    `Port ${port}`,
    `HostKey ${hostKeyPath}`,
    `AuthorizedKeysFile ${o.authorizedKeysPath}`,
    `AllowUsers ${o.allowUsers.join(' ')}`,
    // one SetEnv line: sshd takes only the first
    `SetEnv ${sessionVariables(o)
      .map(v => `"${v}"`)
      .join(' ')}`,
    // the temp dir's modes would not pass StrictModes, and PAM is not set up
    'StrictModes no',
    'UsePAM no',
    'PidFile none',
    // INFO: one `Accepted publickey` line per session (Fleet.sessions counts them)
    'LogLevel INFO',
    'PermitRootLogin yes',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UseDNS no',
    'PrintMotd no',
    'PrintLastLog no',
    'X11Forwarding no',
    // the default post-quantum kex (sntrup761) costs ~120 ms per connection here,
    // about half of every ssh session's time
    'KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org',
    // a deploy opens 3-4 sessions per profile; parallel tests open many at once
    'MaxStartups 100:30:200',
    'MaxSessions 100',
    ''
  ].join('\n')
}

function spawnSshd(configPath: string, logPath: string): ChildProcess {
  // sshd writes its log (-e) to a file: a pipe nobody drains would block it.
  const logFd = openSync(logPath, 'a')
  try {
    return spawn(SSHD, ['-D', '-e', '-f', configPath], { stdio: ['ignore', logFd, logFd] })
  } finally {
    closeSync(logFd)
  }
}

export async function startSshdHost(o: SshdHostOptions): Promise<SshdHost> {
  await mkdir(o.configDir, { recursive: true })
  const hostKeyPath = join(o.configDir, 'ssh_host_ed25519_key')
  const configPath = join(o.configDir, 'sshd_config')
  const logPath = join(o.configDir, 'sshd.log')
  const hostKey = await generateKeyFile(hostKeyPath, { type: 'ed25519', comment: 'fleet-host' })

  let lastError = ''
  for (let attempt = 0; attempt < BIND_ATTEMPTS; attempt++) {
    const port = await o.ports.pick(o.address)
    await writeFile(configPath, renderConfig(o, port, hostKeyPath))
    const child = spawnSshd(configPath, logPath)
    let spawnError: Error | null = null
    child.on('error', err => (spawnError = err))
    const gone = () =>
      spawnError
        ? spawnError.message
        : child.exitCode !== null || child.signalCode !== null
          ? `sshd exited (${child.exitCode ?? child.signalCode})`
          : null
    try {
      await waitForTcp(o.address, port, START_TIMEOUT_MS, gone)
    } catch (err) {
      await stopChild(child)
      const log = await readFile(logPath, 'utf8').catch(() => '')
      lastError = `${(err as Error).message}\n${log.trim()}`
      // Another fleet took the port between our probe and sshd's bind: try the next one.
      if (/bind|address already in use/i.test(log)) continue
      break
    }
    if (child.pid === undefined) throw new Error('sshd has no pid')
    let listener = child
    return {
      port,
      pid: child.pid,
      hostKeyLine: knownHostsLine(o.address, port, hostKey.publicKey),
      // sshd's per-connection children call setsid(): sessions outlive the listener
      closeListener: () => stopChild(listener),
      reopenListener: async () => {
        if (listener.exitCode === null && listener.signalCode === null) return listener.pid ?? null
        listener = spawnSshd(configPath, logPath)
        const again = listener
        await waitForTcp(o.address, port, START_TIMEOUT_MS, () =>
          again.exitCode !== null ? `sshd exited (${again.exitCode})` : null
        )
        return again.pid ?? null
      },
      stop: () => stopChild(listener)
    }
  }
  throw new Error(`sshd on ${o.address} did not start: ${lastError}`)
}
