/**
 * The environment every child process gets (nix, ssh-keyscan, ssh-keygen,
 * deploy-rs and whatever they start): the step's own, without the action's
 * inputs and the runner's tokens. A child can read its environment from
 * /proc/self/environ, an ssh config `SendEnv` can send it to hosts, and
 * `--impure` nix can read it; none of them needs these.
 *
 * A deny list, not an allow list: the rest of the environment is the user's
 * and the children need more of it than anyone can list (HOME, PATH, NIX_*,
 * NIX_CONFIG with its access-tokens, XDG_*, SSL_CERT_FILE, proxies,
 * SSH_AUTH_SOCK, cloud credentials for a binary cache, TMPDIR, locale...).
 * An allow list would break those deploys silently, while the names below
 * are the only ones the runner and this action put there that no child needs.
 */

/** Every input of the action reaches it as INPUT_<NAME> (key, passphrase, token among them). */
const INPUT_PREFIX = 'INPUT_'

/**
 * Credentials the runner (or a workflow, by convention) puts in the
 * environment, and the runner's file-command paths: a child writing to
 * GITHUB_ENV, GITHUB_OUTPUT or GITHUB_PATH would be giving the runner commands.
 * ACTIONS_RUNTIME_URL, ACTIONS_CACHE_URL and ACTIONS_RESULTS_URL stay: they are
 * addresses, useless without the runtime token.
 */
const DENIED_NAMES = new Set([
  'ACTIONS_RUNTIME_TOKEN',
  'ACTIONS_ID_TOKEN_REQUEST_TOKEN',
  'ACTIONS_ID_TOKEN_REQUEST_URL',
  'GITHUB_TOKEN',
  'GH_TOKEN',
  'GITHUB_ENTERPRISE_TOKEN',
  'GH_ENTERPRISE_TOKEN',
  'GITHUB_ENV',
  'GITHUB_PATH',
  'GITHUB_OUTPUT',
  'GITHUB_STATE',
  'GITHUB_STEP_SUMMARY'
])
/** Names the runner may add for OIDC later (ACTIONS_ID_TOKEN_REQUEST_*). */
const DENIED_PREFIXES = [INPUT_PREFIX, 'ACTIONS_ID_TOKEN_REQUEST_']

/** Whether a variable must never reach a child process. */
export function isDeniedToChildren(name: string): boolean {
  // Environment names are case-sensitive on Linux, but a runner on another OS is not.
  const upper = name.toUpperCase()
  return DENIED_NAMES.has(upper) || DENIED_PREFIXES.some(prefix => upper.startsWith(prefix))
}

/** The given environment without the denied variables. */
export function withoutSecrets(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const kept: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && !isDeniedToChildren(name)) kept[name] = value
  }
  return kept
}

/**
 * The environment for a child: this process's environment plus `extra`,
 * without the denied variables (`extra` cannot bring one back either).
 */
export function childEnvironment(
  extra: Readonly<Record<string, string>> = {},
  parent: NodeJS.ProcessEnv = process.env
): NodeJS.ProcessEnv {
  return withoutSecrets({ ...parent, ...extra })
}
