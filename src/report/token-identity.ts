/**
 * Who the `github-token` is: the login GitHub shows as the author of what the
 * token writes. The PR comment is only ever updated when its author is this
 * identity, so a comment planted by someone else is never edited.
 *
 * How each kind of token answers:
 * - the job's `GITHUB_TOKEN` and a GitHub App's installation token (`ghs_`):
 *   REST `GET /user` fails with 403 "Resource not accessible by integration"
 *   (and `GET /app` needs the app's JWT), but GraphQL `viewer { login }`
 *   answers with the bot's login, `github-actions[bot]` or `<app-slug>[bot]`,
 *   exactly as REST shows it in a comment's `user.login`;
 * - a personal access token, classic or fine-grained, and an app's
 *   user-to-server token: both answer with the user's login.
 * So GraphQL is asked first (it serves every kind), and `GET /user` is the
 * fallback for an endpoint where GraphQL is not reachable. Token prefixes are
 * not used to guess: they are not guaranteed (older and GHES tokens have none).
 */
import { describeApiError, type Octokit } from './api-error.js'
import { ApiTimeoutError } from './github-client.js'

/** The identity could not be learned; `message` says why, for a warning. */
export class TokenIdentityError extends Error {
  /** True when the API did not answer at all (timeout or network): later calls would fail too. */
  readonly unreachable: boolean
  constructor(message: string, unreachable: boolean) {
    super(message)
    this.name = 'TokenIdentityError'
    this.unreachable = unreachable
  }
}

const VIEWER_QUERY = 'query { viewer { login } }'

/** The token's login (e.g. `github-actions[bot]`). Throws `TokenIdentityError` only. */
export async function tokenLogin(octokit: Octokit): Promise<string> {
  let graphqlFailure: string
  try {
    const data = await octokit.graphql<{ viewer?: { login?: unknown } }>(VIEWER_QUERY)
    const login = data.viewer?.login
    if (typeof login === 'string' && login !== '') return login
    graphqlFailure = 'GraphQL viewer has no login'
  } catch (err) {
    if (err instanceof ApiTimeoutError) throw unreachable(err)
    graphqlFailure = `GraphQL viewer: ${describe(err)}`
  }
  try {
    const { data } = await octokit.rest.users.getAuthenticated()
    if (typeof data.login === 'string' && data.login !== '') return data.login
    throw new TokenIdentityError(`${graphqlFailure}; GET /user: no login`, false)
  } catch (err) {
    if (err instanceof TokenIdentityError) throw err
    const failure = describeApiError(err)
    throw new TokenIdentityError(
      `${graphqlFailure}; GET /user: ${describe(err)}`,
      failure.timedOut || failure.status === null
    )
  }
}

/** Whether a comment's author is the token's identity (logins are case-insensitive on GitHub). */
export function isAuthor(user: { login?: string } | null | undefined, login: string): boolean {
  return typeof user?.login === 'string' && user.login.toLowerCase() === login.toLowerCase()
}

function describe(err: unknown): string {
  const { status, message } = describeApiError(err)
  return status === null ? message : `HTTP ${status}: ${message}`
}

function unreachable(err: ApiTimeoutError): TokenIdentityError {
  return new TokenIdentityError(`GraphQL viewer: ${err.message}`, true)
}
