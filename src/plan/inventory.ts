import { ExpectedError } from '../errors.js'
/** One node of the flake's `deploy.nodes`, as the plan needs it. */
export interface InventoryNode {
  readonly name: string
  readonly hostname: string
  /** The node's (or top-level) sshUser, or null when deploy-rs would use the local user. */
  readonly sshUser: string | null
  /** node sshOpts ++ top-level sshOpts, in deploy-rs order. */
  readonly sshOpts: readonly string[]
  /** Every profile, in the order deploy-rs deploys them (profilesOrder first). */
  readonly profiles: readonly string[]
  /** The ssh port from sshOpts (`-p N`, `-o Port=N`), 22 when none. */
  readonly port: number
}

export class PlanError extends ExpectedError {}

/** Validates what `nix eval` printed into nodes, sorted by name like nix's attribute sets. */
export function parseInventory(json: unknown, flake: string): InventoryNode[] {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new PlanError(`flake '${flake}': deploy.nodes is not an attribute set`)
  }
  const nodes: InventoryNode[] = []
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    const node = raw as Record<string, unknown>
    if (typeof node?.hostname !== 'string' || node.hostname.trim() === '') {
      throw new PlanError(`flake '${flake}': deploy.nodes.${JSON.stringify(name)} has no hostname`)
    }
    if (node.hostname.startsWith('-')) {
      throw new PlanError(
        `flake '${flake}': deploy.nodes.${JSON.stringify(name)}.hostname starts with '-', which ssh would take for an option`
      )
    }
    checkHostname(node.hostname, `flake '${flake}': deploy.nodes.${JSON.stringify(name)}.hostname`)
    const sshOpts = stringList(node.sshOpts)
    const profiles = stringList(node.profiles)
    if (profiles.length === 0) {
      throw new PlanError(`flake '${flake}': deploy.nodes.${JSON.stringify(name)} has no profiles`)
    }
    const order = [...new Set(stringList(node.profilesOrder))].filter(profile =>
      profiles.includes(profile)
    )
    nodes.push({
      name,
      hostname: node.hostname,
      sshUser: typeof node.sshUser === 'string' ? node.sshUser : null,
      sshOpts,
      profiles: [...order, ...profiles.filter(profile => !order.includes(profile))],
      port: sshPort(sshOpts)
    })
  }
  if (nodes.length === 0) throw new PlanError(`flake '${flake}' has no deploy.nodes`)
  return nodes.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

/**
 * A hostname goes into known_hosts, and to ssh-keyscan, as the one host it is:
 * a blank or comma would make it a list of names (ssh-keyscan files the key of
 * the first under all of them), `*`, `?` and `!` are patterns, brackets a port.
 * DNS names, IPv4 and plain IPv6 addresses (deploy-rs passes `user@::1` to
 * ssh, which takes it) remain.
 */
function checkHostname(hostname: string, where: string): void {
  if (!/^[A-Za-z0-9._:-]+$/.test(hostname)) {
    const bad = [...hostname].find(c => !/[A-Za-z0-9._:-]/.test(c)) as string
    throw new PlanError(
      `${where} is ${JSON.stringify(hostname)}, which holds ${JSON.stringify(bad)}: a hostname may hold only letters, digits, '.', '-', '_' and ':' (an IPv6 address, without brackets; a port goes in sshOpts as -p). Blanks, commas, wildcards and brackets would make known_hosts trust it under other names.`
    )
  }
}

function stringList(value: unknown): string[] {
  return Array.isArray(value)
    ? value.filter((item): item is string => typeof item === 'string')
    : []
}

/** The port ssh would use, from the first -p or Port option (ssh keeps the first value it sees). */
export function sshPort(sshOpts: readonly string[]): number {
  for (let i = 0; i < sshOpts.length; i++) {
    const opt = sshOpts[i]
    let value: string | undefined
    if (opt === '-p') value = sshOpts[i + 1]
    else if (opt.startsWith('-p')) value = opt.slice(2)
    else if (opt === '-o') value = portOption(sshOpts[i + 1])
    else if (opt.startsWith('-o')) value = portOption(opt.slice(2))
    if (value !== undefined && /^\d+$/.test(value.trim())) return Number(value.trim())
  }
  return 22
}

function portOption(option: string | undefined): string | undefined {
  const match = /^\s*port(?:\s*=\s*|\s+)(\d+)\s*$/i.exec(option ?? '')
  return match?.[1]
}
