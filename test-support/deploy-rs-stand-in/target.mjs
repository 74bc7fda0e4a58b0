// @ts-check
/**
 * Deploy targets: `FLAKE`, `FLAKE#node`, `FLAKE#node.profile`, with quoted
 * names for dots: `FLAKE#"db.lan".system`. Errors are worded like deploy-rs's.
 */

/** @typedef {{ repo: string, node?: string, profile?: string }} Target */

const BARE = /[A-Za-z0-9_'-]/

/**
 * @param {string} text
 * @returns {Target}
 */
export function parseTarget(text) {
  const hash = text.indexOf('#')
  if (hash < 0) return { repo: text }
  const repo = text.slice(0, hash)
  const fragment = text.slice(hash + 1)
  /** @type {string[]} */
  const names = []
  let i = 0
  while (i < fragment.length) {
    let name = ''
    if (fragment[i] === '"') {
      i++
      while (i < fragment.length && fragment[i] !== '"') {
        if (fragment[i] === '\\' && i + 1 < fragment.length) i++
        name += fragment[i++]
      }
      if (fragment[i] !== '"') throw new Error('Unrecognized node or token encountered')
      i++
    } else {
      while (i < fragment.length && BARE.test(/** @type {string} */ (fragment[i]))) {
        name += fragment[i++]
      }
      if (name === '') throw new Error('Unrecognized node or token encountered')
    }
    names.push(name)
    if (i < fragment.length) {
      if (fragment[i] !== '.') throw new Error('Unrecognized node or token encountered')
      i++
      if (i === fragment.length) throw new Error('Unrecognized node or token encountered')
    }
  }
  if (names.length > 2) {
    throw new Error('The given path was too long, did you mean to put something in quotes?')
  }
  /** @type {Target} */
  const target = { repo }
  if (names[0] !== undefined) target.node = names[0]
  if (names[1] !== undefined) target.profile = names[1]
  return target
}
