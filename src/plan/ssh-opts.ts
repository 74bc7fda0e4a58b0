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

/** `-o` options that decide how host keys are checked (lower case, as ssh compares them). */
const REFUSED_OPTIONS = new Set([
  'stricthostkeychecking',
  'userknownhostsfile',
  'globalknownhostsfile',
  'knownhostscommand',
  'hostkeyalias',
  'nohostauthenticationforlocalhost',
  'verifyhostkeydns',
  'updatehostkeys',
  'batchmode',
  'controlmaster',
  'controlpath',
  'controlpersist'
])

/** The first option in sshOpts that would weaken host-key checking, with why; null when none. */
export function weakeningSshOption(
  sshOpts: readonly string[]
): { option: string; why: string } | null {
  for (let i = 0; i < sshOpts.length; i++) {
    const word = sshOpts[i]
    if (!word.startsWith('-') || word === '-' || word === '--') continue
    // getopt: flags may be bundled (-vF file); a flag with a value takes the rest of the word or the next word.
    for (let at = 1; at < word.length; at++) {
      const flag = word[at]
      if (Object.hasOwn(REFUSED_FLAGS, flag)) {
        const option = at === word.length - 1 ? `${word} ${sshOpts[i + 1] ?? ''}`.trim() : word
        return { option, why: REFUSED_FLAGS[flag] }
      }
      if (!FLAGS_WITH_VALUE.has(flag)) continue
      const glued = at < word.length - 1
      const value = glued ? word.slice(at + 1) : sshOpts[i + 1]
      if (!glued) i++
      if (flag === 'o' && value !== undefined) {
        const keyword = /^\s*([A-Za-z0-9]+)/.exec(value)?.[1]?.toLowerCase()
        if (keyword !== undefined && REFUSED_OPTIONS.has(keyword)) {
          return {
            option: glued ? word : `-o ${value}`,
            why: 'changes how host keys are checked, which the action controls (strictly, against its own known_hosts, without multiplexing)'
          }
        }
      }
      break
    }
  }
  return null
}
