/**
 * Which of a node's sshOpts would undo the action's host-key protections.
 * Options given on ssh's command line beat its config file, and the last -F
 * replaces the action's config file (jump hosts included), so such options
 * are refused, not reordered.
 */

/** ssh's flags that take a value (OpenSSH 9.x getopt string); the value may be glued on. */
const FLAGS_WITH_VALUE = new Set('bceilmopBDEFIJLOQRSwW')

/** Flags that replace what the action set: its config file, its multiplexing settings. */
const REFUSED_FLAGS: Record<string, string> = {
  F: "replaces the action's ssh config file (host-key checking, its known_hosts) for this node and its jump hosts",
  S: 'sets a ControlPath: ssh would reuse a master connection without checking the host key',
  M: 'turns on ControlMaster: multiplexing skips the host-key check of reused connections and breaks magic rollback'
}

/**
 * `-o` options that decide how host keys are checked (lower case, as ssh compares them).
 * ssh keeps the first value it reads, and the action's own `-o` options come
 * first on every command line (src/ssh/workspace.ts sshOptionsFor): a node's
 * later value for one of those is ignored by ssh, so it is only reported. The
 * others would take effect (the command line beats the config file): refused.
 */
const IGNORED_OPTIONS = new Set([
  'stricthostkeychecking',
  'userknownhostsfile',
  'globalknownhostsfile',
  'batchmode',
  'controlmaster',
  'controlpath'
])
const REFUSED_OPTIONS = new Set([
  'knownhostscommand',
  'hostkeyalias',
  'nohostauthenticationforlocalhost',
  'verifyhostkeydns',
  'updatehostkeys',
  'controlpersist'
])

export interface SshOptsReview {
  /** The first option that would weaken host-key checking, with why; null when none. */
  refused: { option: string; why: string } | null
  /** Host-key options that ssh ignores because the action set them first (common in flakes). */
  ignored: string[]
}

/** Reads a node's sshOpts as ssh's getopt would and sorts out what touches host-key checking. */
export function reviewSshOpts(sshOpts: readonly string[]): SshOptsReview {
  const ignored: string[] = []
  for (let i = 0; i < sshOpts.length; i++) {
    const word = sshOpts[i]
    if (!word.startsWith('-') || word === '-' || word === '--') continue
    // getopt: flags may be bundled (-vF file); a flag with a value takes the rest of the word or the next word.
    for (let at = 1; at < word.length; at++) {
      const flag = word[at]
      if (Object.hasOwn(REFUSED_FLAGS, flag)) {
        const option = at === word.length - 1 ? `${word} ${sshOpts[i + 1] ?? ''}`.trim() : word
        return { refused: { option, why: REFUSED_FLAGS[flag] }, ignored }
      }
      if (!FLAGS_WITH_VALUE.has(flag)) continue
      const glued = at < word.length - 1
      const value = glued ? word.slice(at + 1) : sshOpts[i + 1]
      if (!glued) i++
      if (flag === 'o' && value !== undefined) {
        const keyword = /^\s*([A-Za-z0-9]+)/.exec(value)?.[1]?.toLowerCase()
        const option = glued ? word : `-o ${value}`
        if (keyword !== undefined && REFUSED_OPTIONS.has(keyword)) {
          return {
            refused: {
              option,
              why: 'changes how host keys are checked, which the action controls (strictly, against its own known_hosts, without multiplexing)'
            },
            ignored
          }
        }
        if (keyword !== undefined && IGNORED_OPTIONS.has(keyword)) ignored.push(option)
      }
      break
    }
  }
  return { refused: null, ignored }
}
