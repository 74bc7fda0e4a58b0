/**
 * deploy-rs's own flag grammar, as far as the deploy-args input needs it:
 * which flags the action sets itself, which take a value, and what values.
 */
import { describeValue as describe } from '../text.js'
import { splitWords } from '../words.js'

/** deploy-rs flags the action sets itself, and the input to use instead. */
const MANAGED_FLAGS: Record<string, string> = {
  '--targets': 'targets',
  '--dry-activate': 'dry-run',
  '--skip-checks': 'skip-checks',
  '-s': 'skip-checks',
  '--ssh-user': 'ssh-user',
  '--ssh-opts': "ssh-config (or the node's sshOpts in the flake)",
  '--hostname':
    "the node's hostname in the flake (one --hostname would send every node to one host)",
  '--interactive': 'nothing: a job has no terminal to answer prompts',
  '-i': 'nothing: a job has no terminal to answer prompts'
}

/** deploy-rs flags that take a value as the next word. */
const FLAGS_WITH_VALUE = new Set([
  '--magic-rollback',
  '--auto-rollback',
  '--rollback-succeeded',
  '--confirm-timeout',
  '--activation-timeout',
  '--profile-user',
  '--result-path',
  '-r',
  '--log-dir',
  '--temp-path'
])

const BOOLEAN_FLAGS = new Set(['--magic-rollback', '--auto-rollback', '--rollback-succeeded'])

/** deploy-rs reads these as u16 seconds. */
const SECONDS_FLAGS = new Set(['--confirm-timeout', '--activation-timeout'])

const EXAMPLE_VALUES: Readonly<Record<string, string>> = {
  '--magic-rollback': 'false',
  '--auto-rollback': 'false',
  '--rollback-succeeded': 'false',
  '--confirm-timeout': '60',
  '--activation-timeout': '600'
}

function checkFlagValue(flag: string, value: string): void {
  if (BOOLEAN_FLAGS.has(flag) && value !== 'true' && value !== 'false') {
    throw new Error(`deploy-args: ${flag} takes true or false; got ${describe(value)}.`)
  }
  if (SECONDS_FLAGS.has(flag) && !(/^\d{1,5}$/.test(value) && Number(value) <= 65_535)) {
    throw new Error(
      `deploy-args: ${flag} takes whole seconds from 0 to 65535; got ${describe(value)}.`
    )
  }
  if (value === '') throw new Error(`deploy-args: ${flag} needs a value.`)
}

/** The deploy-args input: deploy-rs flags (checked against its grammar), then nix arguments after `--`. */
export function parseDeployArgs(raw: string): { deploy: string[]; nix: string[] } {
  let words: string[]
  try {
    words = splitWords(raw)
  } catch (error) {
    throw new Error(`deploy-args: ${(error as Error).message} in ${describe(raw.trim())}.`)
  }
  const separator = words.indexOf('--')
  const deploy = separator === -1 ? words : words.slice(0, separator)
  const nix = separator === -1 ? [] : words.slice(separator + 1)
  for (let i = 0; i < deploy.length; i++) {
    const word = deploy[i]
    const flag = word.includes('=') ? word.slice(0, word.indexOf('=')) : word
    if (flag in MANAGED_FLAGS) {
      throw new Error(
        `deploy-args: ${flag} is set by the action; use ${MANAGED_FLAGS[flag]} instead.`
      )
    }
    if (!word.startsWith('-')) {
      throw new Error(
        `deploy-args: ${describe(word)} is not an option; deploy-args takes deploy-rs flags (e.g. --remote-build --magic-rollback false) and nix arguments after --. Node names go in targets.`
      )
    }
    if (FLAGS_WITH_VALUE.has(flag) && !word.includes('=')) {
      const value = deploy[i + 1]
      // clap never takes a word starting with '-' as a value: it would be read as a flag.
      if (value === undefined || value.startsWith('-')) {
        throw new Error(
          `deploy-args: ${flag} needs a value${value === undefined ? '' : `; got the option ${describe(value)}`} (e.g. ${flag} ${EXAMPLE_VALUES[flag] ?? 'VALUE'}).`
        )
      }
      checkFlagValue(flag, value)
      i++
    } else if (FLAGS_WITH_VALUE.has(flag)) {
      checkFlagValue(flag, word.slice(word.indexOf('=') + 1))
    }
  }
  return { deploy, nix }
}
