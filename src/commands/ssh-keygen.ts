import { runCommand, type RunCommand } from './process.js'

export type KeyProbe = 'usable' | 'encrypted' | 'invalid'

/** The two ssh-keygen calls the workspace needs. */
export interface SshKeygen {
  /** Whether the key file loads without a passphrase, needs one, or is not a key. */
  probe(keyPath: string): Promise<{ state: KeyProbe; detail: string }>
  /**
   * Rewrites the key file without its passphrase. The passphrase reaches
   * ssh-keygen through SSH_ASKPASS from the environment, never argv, so it
   * shows in no process list.
   */
  removePassphrase(
    keyPath: string,
    passphrase: string,
    askpassPath: string
  ): Promise<{ ok: boolean; detail: string }>
}

const KEYGEN_TIMEOUT_MS = 30_000
/** Environment variable the askpass helper prints. */
export const ASKPASS_VARIABLE = 'DEPLOY_RS_ACTION_KEY_PASSPHRASE'

export function createSshKeygen(run: RunCommand = runCommand): SshKeygen {
  return {
    async probe(keyPath) {
      const result = await run(['ssh-keygen', '-y', '-P', '', '-f', keyPath], {
        timeoutMs: KEYGEN_TIMEOUT_MS
      })
      const detail = firstLine(result.stderr)
      if (result.startError)
        return {
          state: 'invalid',
          detail: 'ssh-keygen was not found on PATH (install openssh-client)'
        }
      if (result.code === 0) return { state: 'usable', detail: '' }
      if (/incorrect passphrase|passphrase/i.test(result.stderr))
        return { state: 'encrypted', detail }
      return { state: 'invalid', detail }
    },

    async removePassphrase(keyPath, passphrase, askpassPath) {
      // The one child that is handed the passphrase, under a name of its own (never INPUT_*).
      const extraEnv = {
        SSH_ASKPASS: askpassPath,
        SSH_ASKPASS_REQUIRE: 'force',
        DISPLAY: process.env.DISPLAY ?? ':0',
        [ASKPASS_VARIABLE]: passphrase
      }
      const result = await run(['ssh-keygen', '-p', '-N', '', '-f', keyPath], {
        timeoutMs: KEYGEN_TIMEOUT_MS,
        extraEnv
      })
      return { ok: result.code === 0, detail: firstLine(result.stderr) }
    }
  }
}

function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .map(line => line.trim())
      .find(line => line !== '') ?? ''
  )
}
