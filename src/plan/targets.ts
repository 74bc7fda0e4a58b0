import { PlanError, type InventoryNode } from './inventory.js'

/** A node the run deploys, with the profiles it was asked for. */
export interface PlannedNode extends InventoryNode {
  /** Profiles to deploy, in deploy order; all of them when wholeNode. */
  readonly targetProfiles: readonly string[]
  /** True when the whole node is deployed (one `FLAKE#node` target). */
  readonly wholeNode: boolean
}

const MAX_LISTED = 40

/**
 * Resolves the user's target words against the flake's nodes. `all` keeps
 * the flake's order; names keep the order the user wrote them.
 */
export function resolveTargets(
  targets: 'all' | readonly string[],
  inventory: readonly InventoryNode[]
): PlannedNode[] {
  if (targets === 'all') {
    return inventory.map(node => ({ ...node, targetProfiles: node.profiles, wholeNode: true }))
  }
  const byName = new Map(inventory.map(node => [node.name, node]))
  const wanted = new Map<string, Set<string> | 'whole'>()
  const problems: string[] = []
  for (const word of targets) {
    const target = parseTarget(word, byName)
    if (typeof target === 'string') {
      problems.push(target)
      continue
    }
    const current = wanted.get(target.node)
    if (target.profile === null || current === 'whole') {
      wanted.set(target.node, 'whole')
    } else {
      wanted.set(target.node, (current ?? new Set<string>()).add(target.profile))
    }
  }
  if (problems.length > 0) {
    throw new PlanError(
      `${problems.join('; ')}. The nodes are: ${listNames(inventory.map(node => node.name))}.`
    )
  }
  return [...wanted].map(([name, profiles]) => {
    const node = byName.get(name) as InventoryNode
    if (profiles === 'whole') return { ...node, targetProfiles: node.profiles, wholeNode: true }
    return {
      ...node,
      targetProfiles: node.profiles.filter(profile => profiles.has(profile)),
      wholeNode: false
    }
  })
}

/** `node`, `node.profile`, `"a.b"` or `"a.b".profile`; a string is an error message. */
function parseTarget(
  word: string,
  byName: Map<string, InventoryNode>
): { node: string; profile: string | null } | string {
  if (word.startsWith('"')) {
    const end = word.indexOf('"', 1)
    const node = word.slice(1, end)
    const rest = word.slice(end + 1)
    if (end === -1 || (rest !== '' && !rest.startsWith('.'))) {
      return `targets: ${JSON.stringify(word)} is not of the form "node" or "node".profile`
    }
    const profile = rest === '' ? null : unquote(rest.slice(1))
    return checkTarget(word, node, profile, byName)
  }
  if (byName.has(word)) return { node: word, profile: null }
  // Node names may contain dots: try every split, leftmost node first.
  for (let dot = word.indexOf('.'); dot !== -1; dot = word.indexOf('.', dot + 1)) {
    const node = byName.get(word.slice(0, dot))
    if (node?.profiles.includes(unquote(word.slice(dot + 1)))) {
      return { node: node.name, profile: unquote(word.slice(dot + 1)) }
    }
  }
  const dot = word.indexOf('.')
  if (dot !== -1 && byName.has(word.slice(0, dot))) {
    return checkTarget(word, word.slice(0, dot), unquote(word.slice(dot + 1)), byName)
  }
  return `targets: ${JSON.stringify(word)} is not a node of the flake`
}

function checkTarget(
  word: string,
  nodeName: string,
  profile: string | null,
  byName: Map<string, InventoryNode>
): { node: string; profile: string | null } | string {
  const node = byName.get(nodeName)
  if (!node) return `targets: ${JSON.stringify(word)} is not a node of the flake`
  if (profile !== null && !node.profiles.includes(profile)) {
    return `targets: node ${JSON.stringify(nodeName)} has no profile ${JSON.stringify(profile)} (its profiles: ${node.profiles.join(', ')})`
  }
  return { node: nodeName, profile }
}

function unquote(text: string): string {
  return text.length >= 2 && text.startsWith('"') && text.endsWith('"') ? text.slice(1, -1) : text
}

function listNames(names: string[]): string {
  const shown = names
    .slice(0, MAX_LISTED)
    .map(name => (/^[A-Za-z0-9._-]+$/.test(name) ? name : JSON.stringify(name)))
  return names.length > MAX_LISTED
    ? `${shown.join(', ')} and ${names.length - MAX_LISTED} more`
    : shown.join(', ')
}
