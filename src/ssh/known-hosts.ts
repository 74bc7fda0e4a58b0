import { createHmac } from 'node:crypto'

/** How a host appears in known_hosts: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`
}

/** A known_hosts line cut into its optional marker, its host list and the rest (key, comment). */
interface Entry {
  marker: string | null
  hosts: string
  key: string
}

function parseEntry(line: string): Entry | null {
  const fields = line.trim().split(/\s+/)
  const marker = fields[0]?.startsWith('@') ? fields[0] : null
  const [hosts, ...key] = marker === null ? fields : fields.slice(1)
  if (!hosts || key.length === 0) return null
  return { marker, hosts, key: key.join(' ') }
}

function formatEntry({ marker, hosts, key }: Entry): string {
  return marker === null ? `${hosts} ${key}` : `${marker} ${hosts} ${key}`
}

/**
 * A pinned line as ssh can use it. ssh looks a port-22 host up by its bare
 * name only, so a pattern written `[host]:22` would never match: it becomes
 * `host`. Hashed host lists cannot be rewritten (see pinLinesFor).
 */
export function normalisePin(line: string): string {
  const entry = parseEntry(line)
  if (!entry || entry.hosts.startsWith('|')) return line
  const hosts = entry.hosts
    .split(',')
    .map(pattern => pattern.replace(/^(!?)\[([^[\]]+)\]:22$/, '$1$2'))
    .join(',')
  return hosts === entry.hosts ? line : formatEntry({ ...entry, hosts })
}

/**
 * True when one of the pinned known_hosts lines names this host (plain,
 * hashed `|1|salt|hash`, or a `*`/`?` pattern); `@revoked` lines never pin.
 * A pin written `[host]:22`, plain or hashed, counts for port 22.
 */
export function isPinned(lines: readonly string[], host: string, port: number): boolean {
  return lines.some(line => pinMatch(line, host, port) !== null)
}

/**
 * Lines to add so that ssh finds a hashed `[host]:22` pin of this host: ssh
 * never looks that name up, and a hash cannot be rewritten, so the host's key
 * is written again under the host's own name.
 */
export function pinLinesFor(lines: readonly string[], host: string, port: number): string[] {
  const added: string[] = []
  for (const line of lines) {
    const entry = parseEntry(line)
    if (entry && pinMatch(line, host, port) === 'port-22-alias') {
      added.push(formatEntry({ ...entry, hosts: knownHostsName(host, port) }))
    }
  }
  return added
}

/** The host list of each pin that matches none of the hosts (`@revoked` lines are no pins). */
export function unusedPins(
  lines: readonly string[],
  hosts: readonly { host: string; port: number }[]
): string[] {
  return lines.flatMap(line => {
    const entry = parseEntry(line)
    if (!entry || entry.marker === '@revoked') return []
    const used = hosts.some(({ host, port }) => pinMatch(line, host, port) !== null)
    return used ? [] : [entry.hosts]
  })
}

/** A scanned line under the host's own known_hosts name, whatever name ssh-keyscan printed. */
export function underName(line: string, host: string, port: number): string {
  const entry = parseEntry(line)
  return entry ? formatEntry({ ...entry, hosts: knownHostsName(host, port) }) : line
}

/** How a pin names the host: as ssh looks it up, only as a hashed `[host]:22`, or not at all. */
function pinMatch(line: string, host: string, port: number): 'name' | 'port-22-alias' | null {
  const entry = parseEntry(normalisePin(line))
  if (!entry || entry.marker === '@revoked') return null
  // ssh lowercases the host name before it looks it up (and hashes it).
  const name = knownHostsName(host.toLowerCase(), port)
  if (matchesHostList(entry.hosts, name)) return 'name'
  if (port === 22 && entry.hosts.startsWith('|1|') && matchesHashed(entry.hosts, `[${name}]:22`)) {
    return 'port-22-alias'
  }
  return null
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
