/**
 * A fake GitHub REST API on 127.0.0.1 for tests: point `@actions/github` at
 * it with `getOctokit(token, { baseUrl: server.url })`, or run the bundled
 * action with `GITHUB_API_URL=server.url`.
 *
 * It records every request and implements, with GitHub's response shapes
 * (the fields the action reads):
 *   GET    /repos/:o/:r/issues/:n/comments     (paginated: per_page, page, Link)
 *   POST   /repos/:o/:r/issues/:n/comments     (authored by the token's identity)
 *   PATCH  /repos/:o/:r/issues/comments/:id    (any comment, as a token with write access may)
 *   POST   /repos/:o/:r/deployments             (409 unless required_contexts: [])
 *   POST   /repos/:o/:r/deployments/:id/statuses
 *   GET    /user                                (403 for installation tokens, as GitHub)
 *   POST   /graphql, /api/graphql               (`viewer { login }` only)
 * Anything else answers 404 like GitHub. `failOn` makes a route answer an
 * error (e.g. 403 with GitHub's JSON body) to test permission problems;
 * `stallOn` makes it never answer, to test timeouts.
 *
 * Tokens: every token is the job's `GITHUB_TOKEN` (an installation token of
 * `github-actions[bot]`) unless `setTokenIdentity` says otherwise, e.g. a
 * personal access token of a user or another GitHub App's installation token.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface RecordedRequest {
  method: string
  /** Path without the query string, e.g. `/repos/o/r/issues/1/comments`. */
  path: string
  query: Record<string, string>
  /** Parsed JSON body, or null when there was none. */
  body: unknown
  /** The `authorization` header as sent (e.g. `token ghs_...`). */
  authorization: string | undefined
}

export interface FakeUser {
  login: string
  id: number
  type: 'Bot' | 'User'
}

/** Who a token is, and what kind of token it is (which decides how `GET /user` answers). */
export interface TokenIdentity {
  login: string
  type: 'Bot' | 'User'
  /** `installation`: GITHUB_TOKEN or a GitHub App's token; `user`: a personal access token. */
  kind: 'installation' | 'user'
}

/** The identity of the job's GITHUB_TOKEN. */
export const GITHUB_ACTIONS_BOT: TokenIdentity = {
  login: 'github-actions[bot]',
  type: 'Bot',
  kind: 'installation'
}

export interface FakeComment {
  id: number
  body: string
  user: FakeUser
  performed_via_github_app: null
  html_url: string
  created_at: string
  updated_at: string
}

export interface FakeDeployment {
  id: number
  owner: string
  repo: string
  body: Record<string, unknown>
  statuses: Array<Record<string, unknown>>
}

export interface Failure {
  method?: string
  /** Exact path, or a pattern tested against the path. */
  path: string | RegExp
  status: number
  /** GitHub's `message`; by default the one GitHub sends for the status. */
  message?: string
  /** Answer with the error this many times, then normally. Default: always. */
  times?: number
}

export interface FakeGitHub {
  /** Base URL, e.g. `http://127.0.0.1:40123` (no trailing slash). */
  url: string
  requests: RecordedRequest[]
  deployments: FakeDeployment[]
  /** The comments of one issue or pull request, oldest first. */
  comments(owner: string, repo: string, issue: number): FakeComment[]
  /** Adds a comment as if someone had written it (default user: a person, not the bot). */
  seedComment(owner: string, repo: string, issue: number, body: string, login?: string): FakeComment
  failOn(failure: Failure): void
  /** Requests matching this are held without an answer (until `stop`). */
  stallOn(route: Omit<Failure, 'status' | 'message'>): void
  clearFailures(): void
  /** Makes `token` answer as `identity` (default for every token: `GITHUB_ACTIONS_BOT`). */
  setTokenIdentity(token: string, identity: TokenIdentity): void
  stop(): Promise<void>
}

const DEFAULT_MESSAGES: Record<number, string> = {
  401: 'Bad credentials',
  403: 'Resource not accessible by integration',
  404: 'Not Found',
  409: 'Conflict',
  422: 'Validation Failed',
  500: 'Server Error'
}

const TIMESTAMP = '2026-11-25T12:00:00Z'
const COMMENT_LIMIT = 65_536

export async function startFakeGitHub(): Promise<FakeGitHub> {
  const requests: RecordedRequest[] = []
  const deployments: FakeDeployment[] = []
  const issues = new Map<string, FakeComment[]>()
  const failures: Failure[] = []
  const stalls: Array<Omit<Failure, 'status' | 'message'>> = []
  const identities = new Map<string, TokenIdentity>()
  const userIds = new Map<string, number>()
  let nextId = 1000
  let url = ''

  const commentsOf = (owner: string, repo: string, issue: number): FakeComment[] => {
    const key = `${owner}/${repo}#${issue}`
    let list = issues.get(key)
    if (!list) issues.set(key, (list = []))
    return list
  }
  const addComment = (
    owner: string,
    repo: string,
    issue: number,
    body: string,
    user: FakeUser
  ): FakeComment => {
    const id = nextId++
    const comment: FakeComment = {
      id,
      body,
      user,
      performed_via_github_app: null,
      html_url: `https://github.com/${owner}/${repo}/pull/${issue}#issuecomment-${id}`,
      created_at: TIMESTAMP,
      updated_at: TIMESTAMP
    }
    commentsOf(owner, repo, issue).push(comment)
    return comment
  }

  const send = (
    res: ServerResponse,
    status: number,
    data: unknown,
    headers: Record<string, string> = {}
  ): void => {
    const text = data === null ? '' : JSON.stringify(data)
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'x-github-request-id': `FAKE:${nextId}`,
      ...headers
    })
    res.end(text)
  }
  const error = (res: ServerResponse, status: number, message?: string, extra: object = {}): void =>
    send(res, status, {
      message: message ?? DEFAULT_MESSAGES[status] ?? 'Error',
      documentation_url: 'https://docs.github.com/rest',
      status: String(status),
      ...extra
    })

  /** A stable numeric id per login, as GitHub's `user.id`. */
  const userOf = (login: string, type: 'Bot' | 'User'): FakeUser => {
    if (!userIds.has(login)) userIds.set(login, 41_000_000 + userIds.size)
    return { login, id: userIds.get(login)!, type }
  }
  const identityOf = (req: RecordedRequest): TokenIdentity => {
    const token = /^(?:token|bearer)\s+(.+)$/i.exec(req.authorization ?? '')?.[1] ?? ''
    return identities.get(token) ?? GITHUB_ACTIONS_BOT
  }
  const matches = (route: Omit<Failure, 'status' | 'message'>, req: RecordedRequest): boolean =>
    (!route.method || route.method.toUpperCase() === req.method) &&
    (typeof route.path === 'string' ? route.path === req.path : route.path.test(req.path)) &&
    (route.times === undefined || route.times > 0)

  const handle = (req: RecordedRequest, res: ServerResponse): void => {
    const stall = stalls.find(route => matches(route, req))
    if (stall) {
      if (stall.times !== undefined) stall.times--
      return // never answered; stop() closes the connection
    }
    const failure = failures.find(f => matches(f, req))
    if (failure) {
      if (failure.times !== undefined) failure.times--
      error(res, failure.status, failure.message)
      return
    }
    const body = (req.body ?? {}) as Record<string, unknown>
    let m: RegExpExecArray | null
    if ((m = /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/.exec(req.path))) {
      const [, owner, repo, n] = m
      const list = commentsOf(owner, repo, Number(n))
      if (req.method === 'GET') {
        const perPage = Math.min(100, Math.max(1, Number(req.query.per_page ?? 30) || 30))
        const page = Math.max(1, Number(req.query.page ?? 1) || 1)
        const last = Math.max(1, Math.ceil(list.length / perPage))
        const link = (p: number): string => `<${url}${req.path}?per_page=${perPage}&page=${p}>`
        const links: string[] = []
        if (page < last) links.push(`${link(page + 1)}; rel="next"`, `${link(last)}; rel="last"`)
        if (page > 1) links.push(`${link(1)}; rel="first"`, `${link(page - 1)}; rel="prev"`)
        send(
          res,
          200,
          list.slice((page - 1) * perPage, page * perPage),
          links.length ? { link: links.join(', ') } : {}
        )
        return
      }
      if (req.method === 'POST') {
        if (!validBody(res, body.body)) return
        const author = identityOf(req)
        send(
          res,
          201,
          addComment(owner, repo, Number(n), body.body as string, userOf(author.login, author.type))
        )
        return
      }
    }
    if (
      (m = /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/.exec(req.path)) &&
      req.method === 'PATCH'
    ) {
      const [, owner, repo, id] = m
      const comment = [...issues.entries()]
        .filter(([key]) => key.startsWith(`${owner}/${repo}#`))
        .flatMap(([, list]) => list)
        .find(c => c.id === Number(id))
      if (!comment) return error(res, 404)
      if (!validBody(res, body.body)) return
      comment.body = body.body as string
      comment.updated_at = TIMESTAMP
      send(res, 200, comment)
      return
    }
    if ((m = /^\/repos\/([^/]+)\/([^/]+)\/deployments$/.exec(req.path)) && req.method === 'POST') {
      const [, owner, repo] = m
      if (!Array.isArray(body.required_contexts) || body.required_contexts.length > 0) {
        return error(res, 409, 'Conflict: Commit status checks failed for main.')
      }
      const id = nextId++
      deployments.push({ id, owner, repo, body, statuses: [] })
      send(res, 201, {
        id,
        node_id: `DE_${id}`,
        sha: body.ref,
        ref: body.ref,
        task: body.task ?? 'deploy',
        environment: body.environment ?? 'production',
        description: body.description ?? null,
        url: `${url}/repos/${owner}/${repo}/deployments/${id}`,
        statuses_url: `${url}/repos/${owner}/${repo}/deployments/${id}/statuses`,
        created_at: TIMESTAMP,
        updated_at: TIMESTAMP
      })
      return
    }
    if (
      (m = /^\/repos\/([^/]+)\/([^/]+)\/deployments\/(\d+)\/statuses$/.exec(req.path)) &&
      req.method === 'POST'
    ) {
      const deployment = deployments.find(d => d.id === Number(m![3]))
      if (!deployment) return error(res, 404)
      const status = { id: nextId++, ...body, created_at: TIMESTAMP }
      deployment.statuses.push(status)
      send(res, 201, status)
      return
    }
    if (req.path === '/user' && req.method === 'GET') {
      const identity = identityOf(req)
      if (identity.kind === 'installation') return error(res, 403)
      send(res, 200, userOf(identity.login, identity.type))
      return
    }
    if ((req.path === '/graphql' || req.path === '/api/graphql') && req.method === 'POST') {
      const query = typeof body.query === 'string' ? body.query : ''
      if (!/\bviewer\s*\{\s*login\s*\}/.test(query)) {
        send(res, 200, { errors: [{ message: 'This fake only answers viewer { login }' }] })
        return
      }
      send(res, 200, { data: { viewer: { login: identityOf(req).login } } })
      return
    }
    error(res, 404)
  }

  const validBody = (res: ServerResponse, text: unknown): boolean => {
    if (typeof text !== 'string' || text === '') {
      error(res, 422, 'Invalid request.\n\n"body" wasn\'t supplied.')
      return false
    }
    if (text.length > COMMENT_LIMIT) {
      error(res, 422, 'Validation Failed', {
        errors: [
          {
            resource: 'IssueComment',
            code: 'custom',
            field: 'body',
            message: `body is too long (maximum is ${COMMENT_LIMIT} characters)`
          }
        ]
      })
      return false
    }
    return true
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const parsed = new URL(req.url ?? '/', 'http://127.0.0.1')
      const raw = Buffer.concat(chunks).toString('utf8')
      let body: unknown = null
      if (raw !== '') {
        try {
          body = JSON.parse(raw)
        } catch {
          body = raw
        }
      }
      const recorded: RecordedRequest = {
        method: (req.method ?? 'GET').toUpperCase(),
        path: parsed.pathname.replace(/^\/api\/v3(?=\/)/, ''),
        query: Object.fromEntries(parsed.searchParams),
        body,
        authorization: req.headers.authorization
      }
      requests.push(recorded)
      try {
        handle(recorded, res)
      } catch (err) {
        error(res, 500, String(err))
      }
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  return {
    url,
    requests,
    deployments,
    comments: commentsOf,
    seedComment: (owner, repo, issue, body, login = 'octocat') =>
      addComment(owner, repo, issue, body, userOf(login, login.endsWith('[bot]') ? 'Bot' : 'User')),
    failOn: failure => failures.push({ ...failure }),
    stallOn: route => stalls.push({ ...route }),
    clearFailures: () => {
      failures.splice(0, failures.length)
      stalls.splice(0, stalls.length)
    },
    setTokenIdentity: (token, identity) => void identities.set(token, identity),
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close(err => (err ? reject(err) : resolve()))
      })
  }
}
