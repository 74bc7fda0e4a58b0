// @ts-check
/**
 * deploy-rs's command line (clap): one positional target or `--targets T...`,
 * the flags of the facts doc, `--` then nix args. Unknown flags and bad values
 * are usage errors (exit 2), worded like clap's.
 */

export class UsageError extends Error {}

/**
 * @typedef {{
 *   targets: string[], skipChecks: boolean, dryActivate: boolean, boot: boolean,
 *   remoteBuild: boolean, keepResult: boolean, debugLogs: boolean, checksigs: boolean,
 *   interactive: boolean, help: boolean, version: boolean,
 *   magicRollback?: boolean, autoRollback?: boolean, rollbackSucceeded: boolean,
 *   interactiveSudo?: boolean, fastConnection?: boolean,
 *   sshUser?: string, profileUser?: string, hostname?: string, sshOpts?: string,
 *   confirmTimeout?: number, activationTimeout?: number, resultPath?: string,
 *   logDir?: string, tempPath?: string, sudo?: string,
 *   extraBuildArgs: string[]
 * }} Options
 */

/** Flags without a value. @type {Record<string, keyof Options>} */
const SWITCHES = {
  '--skip-checks': 'skipChecks',
  '-s': 'skipChecks',
  '--dry-activate': 'dryActivate',
  '--boot': 'boot',
  '--remote-build': 'remoteBuild',
  '--keep-result': 'keepResult',
  '-k': 'keepResult',
  '--debug-logs': 'debugLogs',
  '-d': 'debugLogs',
  '--checksigs': 'checksigs',
  '-c': 'checksigs',
  '--interactive': 'interactive',
  '-i': 'interactive',
  '--help': 'help',
  '-h': 'help',
  '--version': 'version',
  '-V': 'version'
}

/** Flags taking the literal words true/false. @type {Record<string, keyof Options>} */
const BOOLEANS = {
  '--magic-rollback': 'magicRollback',
  '--auto-rollback': 'autoRollback',
  '--rollback-succeeded': 'rollbackSucceeded',
  '--interactive-sudo': 'interactiveSudo'
}

/** Flags taking a string. @type {Record<string, keyof Options>} */
const STRINGS = {
  '--ssh-user': 'sshUser',
  '--profile-user': 'profileUser',
  '--hostname': 'hostname',
  '--ssh-opts': 'sshOpts',
  '--result-path': 'resultPath',
  '-r': 'resultPath',
  '--log-dir': 'logDir',
  '--temp-path': 'tempPath',
  '--sudo': 'sudo'
}

/** Flags taking a u16. @type {Record<string, keyof Options>} */
const NUMBERS = {
  '--confirm-timeout': 'confirmTimeout',
  '--activation-timeout': 'activationTimeout'
}

export const USAGE = `deploy 1.0
Serokell <https://serokell.io/>
Deploy profiles of a Nix flake (sandbox stand-in of deploy-rs)

USAGE:
    deploy [OPTIONS] [TARGET] [-- <EXTRA_BUILD_ARGS>...]
    deploy [OPTIONS] --targets <TARGETS>... [-- <EXTRA_BUILD_ARGS>...]

OPTIONS:
    -s, --skip-checks                 Skip the automatic pre-build checks
        --dry-activate                Show what will be activated on the machines
        --boot                        Make the new profile the boot default, do not activate
        --magic-rollback <true|false>
        --auto-rollback <true|false>
        --rollback-succeeded <true|false>
        --fast-connection [<true|false>]
        --confirm-timeout <N>
        --activation-timeout <N>
        --ssh-user <USER>
        --profile-user <USER>
        --hostname <HOST>
        --ssh-opts <OPTS>             Split on single spaces; replaces the node's sshOpts
        --remote-build
        --temp-path <PATH>
        --sudo <CMD>
        --interactive-sudo <true|false>
    -i, --interactive
    -k, --keep-result
    -r, --result-path <PATH>
    -d, --debug-logs
        --log-dir <DIR>
    -c, --checksigs
    -h, --help
    -V, --version
`

/** @param {string} message */
function usageError(message) {
  return new UsageError(
    `error: ${message}\n\nUSAGE:\n    deploy [OPTIONS] [TARGET] [-- <EXTRA_BUILD_ARGS>...]\n\nFor more information try --help\n`
  )
}

/** `--ssh-user` → `<SSH_USER>` as clap names values. @param {string} flag */
function valueName(flag) {
  return `<${flag.replace(/^-+/, '').replace(/-/g, '_').toUpperCase()}>`
}

/**
 * @param {string[]} argv arguments after the program name
 * @returns {Options}
 */
export function parseCli(argv) {
  /** @type {Options} */
  const o = {
    targets: [],
    skipChecks: false,
    dryActivate: false,
    boot: false,
    remoteBuild: false,
    keepResult: false,
    debugLogs: false,
    checksigs: false,
    interactive: false,
    help: false,
    version: false,
    rollbackSucceeded: true,
    extraBuildArgs: []
  }
  /** @type {Record<string, unknown>} */
  const set = /** @type {any} */ (o)
  /** @type {string | undefined} */
  let positional
  /** @type {string[] | undefined} */
  let targetsFlag

  for (let i = 0; i < argv.length; i++) {
    const arg = /** @type {string} */ (argv[i])
    if (arg === '--') {
      o.extraBuildArgs = argv.slice(i + 1)
      break
    }
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1
    const flag = eq > 0 ? arg.slice(0, eq) : arg
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined
    /** The flag's value: inline after `=`, else the next argument. @param {boolean} hyphenOk */
    const takeValue = hyphenOk => {
      if (inline !== undefined) return inline
      const next = argv[i + 1]
      if (next === undefined || next === '--' || (!hyphenOk && next.startsWith('-'))) {
        throw usageError(
          `The argument '${flag} ${valueName(flag)}' requires a value but none was supplied`
        )
      }
      i++
      return next
    }

    if (flag in SWITCHES && inline === undefined) {
      set[SWITCHES[flag]] = true
    } else if (flag in BOOLEANS) {
      const value = takeValue(false)
      if (value !== 'true' && value !== 'false') {
        throw usageError(
          `Invalid value "${value}" for '${flag} ${valueName(flag)}': provided string was not \`true\` or \`false\``
        )
      }
      set[BOOLEANS[flag]] = value === 'true'
    } else if (flag === '--fast-connection') {
      // takes an optional true/false
      const next = inline ?? argv[i + 1]
      if (next === 'true' || next === 'false') {
        if (inline === undefined) i++
        o.fastConnection = next === 'true'
      } else if (inline !== undefined) {
        throw usageError(`Invalid value "${inline}" for '--fast-connection'`)
      } else {
        o.fastConnection = true
      }
    } else if (flag in STRINGS) {
      // --ssh-opts values start with "-" by nature (clap: allow_hyphen_values)
      set[STRINGS[flag]] = takeValue(flag === '--ssh-opts')
    } else if (flag in NUMBERS) {
      const value = takeValue(false)
      const n = Number(value)
      if (!/^\d+$/.test(value) || n > 65535) {
        throw usageError(
          `Invalid value "${value}" for '${flag} ${valueName(flag)}': invalid digit found in string`
        )
      }
      set[NUMBERS[flag]] = n
    } else if (flag === '--targets') {
      if (positional !== undefined) {
        throw usageError(`The argument '--targets <TARGETS>...' cannot be used with '<TARGET>'`)
      }
      targetsFlag = targetsFlag ?? []
      if (inline !== undefined) targetsFlag.push(inline)
      while (argv[i + 1] !== undefined && !String(argv[i + 1]).startsWith('-')) {
        targetsFlag.push(/** @type {string} */ (argv[++i]))
      }
      if (targetsFlag.length === 0) {
        throw usageError(
          `The argument '--targets <TARGETS>...' requires a value but none was supplied`
        )
      }
    } else if (/^-[a-zA-Z]{2,}$/.test(arg) && [...arg.slice(1)].every(c => `-${c}` in SWITCHES)) {
      for (const c of arg.slice(1)) set[SWITCHES[`-${c}`]] = true // -sk
    } else if (arg.startsWith('-') && arg !== '-') {
      throw usageError(
        `Found argument '${arg}' which wasn't expected, or isn't valid in this context`
      )
    } else if (targetsFlag !== undefined) {
      throw usageError(`The argument '<TARGET>' cannot be used with '--targets <TARGETS>...'`)
    } else if (positional !== undefined) {
      throw usageError(
        `Found argument '${arg}' which wasn't expected, or isn't valid in this context`
      )
    } else {
      positional = arg
    }
  }
  o.targets = targetsFlag ?? [positional ?? '.']
  return o
}
