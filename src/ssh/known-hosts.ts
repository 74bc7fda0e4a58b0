import { createHmac } from 'node:crypto'

/** How a host appears in known_hosts: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`
}

/**
 * True when one of the pinned known_hosts lines names this host (plain,
 * hashed `|1|salt|hash`, or a `*`/`?` pattern); `@revoked` lines never pin.
 */
export function isPinned(lines: readonly string[], host: string, port: number): boolean {
  // ssh lowercases the host name before it looks it up (and hashes it).
  const name = knownHostsName(host.toLowerCase(), port)
  return lines.some(line => {
    const fields = line.trim().split(/\s+/)
    if (fields[0] === '@revoked') return false
    const hosts = fields[0].startsWith('@') ? fields[1] : fields[0]
    return hosts !== undefined && matchesHostList(hosts, name)
  })
}

function matchesHostList(list: string, name: string): boolean {
  if (list.startsWith('|1|')) return matchesHashed(list, name)
  let matched = false
  for (const pattern of list.split(',')) {
    if (pattern.startsWith('!')) {
      if (globMatch(pattern.slice(1), name)) return false
    } else if (globMatch(pattern, name)) {
      matched = true
    }
  }
  return matched
}

function matchesHashed(entry: string, name: string): boolean {
  const [, , salt, hash] = entry.split('|')
  if (!salt || !hash) return false
  const digest = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64')
  return digest === hash
}

function globMatch(pattern: string, name: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.')
  return new RegExp(`^${regex}$`, 'i').test(name)
}
