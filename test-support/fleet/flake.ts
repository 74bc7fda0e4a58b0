/**
 * The fixture flake: `deploy.nodes` only, no inputs, so Nix 2.8 evaluates and
 * checks it offline. Profile paths are real store paths made beforehand
 * (profiles.ts): the stand-in never builds them, it only pushes and activates
 * them on the sandbox hosts. Each profile may carry a `profilePath`.
 */
import { createHash } from 'node:crypto'

export interface FlakeProfile {
  name: string
  /** the store path deployed */
  path: string
  /** deploy-rs's `profilePath` setting of the profile; null leaves it out */
  profilePath: string | null
}

export interface FlakeNode {
  name: string
  hostname: string
  port: number
  /** null leaves sshUser out of the flake */
  sshUser: string | null
  /** a bare name gets a fake store path (fakeStorePath) and no profilePath */
  profiles: (string | FlakeProfile)[]
  /** deploy-rs node settings; undefined leaves them out (deploy-rs's defaults) */
  autoRollback?: boolean
  magicRollback?: boolean
}

/** A Nix double-quoted string literal. */
export function nixString(value: string): string {
  const escaped = value
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\$\{/g, '\\${')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t')
  return `"${escaped}"`
}

const NIX_BASE32 = '0123456789abcdfghijklmnpqrsvwxyz'

/** `/nix/store/<32 chars>-<node>-<profile>`, stable for a node and profile. */
export function fakeStorePath(node: string, profile: string): string {
  const digest = createHash('sha256').update(`${node}\0${profile}`).digest()
  let hash = ''
  for (let i = 0; i < 32; i++) hash += NIX_BASE32[(digest[i] ?? 0) % 32]
  const name = `${node}-${profile}`.replace(/[^A-Za-z0-9+\-._?=]/g, '-')
  return `/nix/store/${hash}-${name}`
}

export function renderFlake(nodes: FlakeNode[]): string {
  const lines = ['{', '  outputs = { self }: {', '    deploy.nodes = {']
  for (const { profiles, ...node } of nodes) {
    const profileList = profiles.map(p =>
      typeof p === 'string' ? { name: p, path: fakeStorePath(node.name, p), profilePath: null } : p
    )
    lines.push(`      ${nixString(node.name)} = {`)
    lines.push(`        hostname = ${nixString(node.hostname)};`)
    if (node.sshUser !== null) lines.push(`        sshUser = ${nixString(node.sshUser)};`)
    lines.push(`        sshOpts = [ "-p" ${nixString(String(node.port))} ];`)
    if (node.autoRollback !== undefined) lines.push(`        autoRollback = ${node.autoRollback};`)
    if (node.magicRollback !== undefined)
      lines.push(`        magicRollback = ${node.magicRollback};`)
    lines.push(
      '        profilesOrder = [ ' + profileList.map(p => nixString(p.name)).join(' ') + ' ];'
    )
    lines.push('        profiles = {')
    for (const profile of profileList) {
      const profilePath =
        profile.profilePath === null ? '' : ` profilePath = ${nixString(profile.profilePath)};`
      lines.push(
        `          ${nixString(profile.name)} = { user = "root"; path = ${nixString(profile.path)};${profilePath} };`
      )
    }
    lines.push('        };', '      };')
  }
  lines.push('    };', '  };', '}', '')
  return lines.join('\n')
}
