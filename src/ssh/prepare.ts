import type { Keyscan } from '../commands/ssh-keyscan.js'
import type { SshKeygen } from '../commands/ssh-keygen.js'
import type { Settings } from '../inputs.js'
import type { PlannedNode } from '../plan/targets.js'
import { collectHostKeys } from './host-keys.js'
import { knownHostsName, unusedPins } from './known-hosts.js'
import { createWorkspace, writeKnownHosts, writeSshConfig, type Workspace } from './workspace.js'

export interface SshSetup {
  workspace: Workspace
  /** Nodes whose host has no key, with the reason. */
  unreachable: Map<string, string>
}

/** Keys, known_hosts and ssh config in the workspace; every host scanned at once. */
export async function prepareSsh(
  dir: string,
  nodes: readonly PlannedNode[],
  settings: Settings,
  tools: {
    keygen: SshKeygen
    keyscan: Keyscan
    mask: (secret: string) => void
    log: (message: string) => void
    /** A run-level warning (a pin that matches no targeted node). */
    warn?: (message: string) => void
    /** Job cancelled: key scans are stopped. */
    abortSignal?: AbortSignal
  }
): Promise<SshSetup> {
  const workspace = await createWorkspace(
    dir,
    { privateKeys: settings.sshPrivateKey, passphrase: settings.sshKeyPassphrase },
    tools.keygen,
    tools.mask
  )
  // Written (and checked) before any host is contacted.
  await writeSshConfig(workspace, settings.sshConfig)
  const hosts = nodes.map(node => ({ host: node.hostname, port: node.port }))
  for (const pinHosts of unusedPins(settings.knownHosts, hosts)) {
    ;(tools.warn ?? tools.log)(
      `known-hosts: ${describePin(pinHosts)} matches no targeted node; ssh still uses it (e.g. for a jump host). A node on a port other than 22 is pinned as [host]:port.`
    )
  }
  const hostKeys = await collectHostKeys(hosts, {
    pinned: settings.knownHosts,
    scan: settings.sshKeyscan,
    keyscan: tools.keyscan,
    timeoutSeconds: settings.keyscanTimeoutSeconds,
    log: tools.log,
    abortSignal: tools.abortSignal
  })
  await writeKnownHosts(workspace, hostKeys.knownHosts)
  const unreachable = new Map<string, string>()
  for (const node of nodes) {
    const reason = hostKeys.missing.get(knownHostsName(node.hostname, node.port))
    if (reason) unreachable.set(node.name, reason)
  }
  return { workspace, unreachable }
}

/** A pin by its host list, never its key; hashed lists name nothing. */
function describePin(hosts: string): string {
  if (hosts.startsWith('|')) return 'a hashed pin'
  // Only host-pattern characters: the text cannot form a runner command (`##[`, `::`).
  return `the pin for ${hosts.replace(/[^A-Za-z0-9.:[\]*?!,_%-]/g, '?')}`
}
