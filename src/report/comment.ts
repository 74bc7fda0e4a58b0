/**
 * The pull request comment: the same report as the job summary, kept under
 * GitHub's 65,536-character comment limit, behind a hidden marker so that
 * each run of a job updates its own comment instead of adding one.
 */
import type { NodeReport, RunContext } from '../model.js'
import { explainApiError, type Octokit } from './api-error.js'
import { fitToLimit } from './fit.js'
import { truncateChars } from './markdown.js'
import { isAuthor, tokenLogin, TokenIdentityError } from './token-identity.js'
import { detailLevels, renderReport, whereFullLogs } from './sections.js'

/** GitHub's limit is 65,536 characters; the rest is a safety margin. */
export const COMMENT_MAX_CHARS = 65_000
/** GitHub refuses comment bodies longer than this. */
export const GITHUB_COMMENT_LIMIT = 65_536
/** Log lines shown per node that did not succeed, before any trimming. */
export const COMMENT_LOG_TAIL_LINES = 20

const MARKER_PREFIX = '<!-- deploy-rs-action:'

/** URI-encodes a part of the key, and every `-` followed by `-` (`--` may not appear in an HTML comment). */
function keyPart(text: string): string {
  return encodeURIComponent(text).replace(/-(?=-)/g, '%2D')
}

/**
 * The hidden first line of the comment: `<!-- deploy-rs-action:WORKFLOW/JOB -->`,
 * both parts URI-encoded, so two workflows or jobs never share a comment.
 * Pass `GITHUB_WORKFLOW` and `GITHUB_JOB`; a matrix job should append its
 * matrix values to `job` (every leg of a matrix has the same `GITHUB_JOB`).
 */
export function commentMarker(workflow: string, job: string): string {
  return `${MARKER_PREFIX}${keyPart(workflow)}/${keyPart(job)} -->`
}

export interface CommentOptions {
  /** From `commentMarker`; becomes the first line of the body. */
  marker: string
  /** Upper bound of the body's length in UTF-16 units. Default `COMMENT_MAX_CHARS`. */
  maxChars?: number
  /** Log lines per node that did not succeed. Default `COMMENT_LOG_TAIL_LINES`. */
  logTailLines?: number
}

export function renderComment(
  ctx: RunContext,
  nodes: readonly NodeReport[],
  opts: CommentOptions
): string {
  const limit = Math.min(opts.maxChars ?? COMMENT_MAX_CHARS, GITHUB_COMMENT_LIMIT)
  const variant = {
    limitText: "GitHub's 65,536-character limit for a comment",
    preamble: [opts.marker],
    footer: '<sub>This comment is updated in place on every run of this job.</sub>'
  }
  const levels = detailLevels(Math.max(0, opts.logTailLines ?? COMMENT_LOG_TAIL_LINES), [10, 5])
  return fitToLimit({
    levels,
    render: level => renderReport(ctx, nodes, level, variant),
    limit,
    measure: text => text.length,
    truncate: truncateChars,
    cutNotice: `> [!WARNING]\n> The rest of this comment was cut to stay under ${variant.limitText}. The job summary of the run has more; the full log of every node is ${whereFullLogs(ctx)}.`
  })
}

export interface UpsertCommentParams {
  owner: string
  repo: string
  /** The pull request number. */
  issueNumber: number
  marker: string
  /** The body; must start with `marker` (it is prepended otherwise). */
  body: string
}

export interface UpsertCommentResult {
  action: 'created' | 'updated'
  id: number
  /** The comment's `html_url`. */
  url: string
  /** Something the caller should warn about (e.g. the token's identity was unknown); the comment was still written. */
  warnings: string[]
  /** Comments that carry the marker but were written by someone else, left alone. */
  ignored: { id: number; author: string }[]
}

/**
 * Thrown by `upsertPullRequestComment`. Its `message` is ready for
 * `core.warning` (it starts with `pr-comment:` and says what to change); the
 * caller must not fail the step because of it.
 */
export class PullRequestCommentError extends Error {
  readonly status: number | null
  constructor(message: string, status: number | null) {
    super(message)
    this.name = 'PullRequestCommentError'
    this.status = status
  }
}

const PERMISSION_HINT =
  "The token needs `pull-requests: write` (add it to the job's `permissions`). On pull requests from forks the `GITHUB_TOKEN` is read-only and no comment can be written: set `pr-comment: false` there and read the job summary instead. The deploy result is not affected."

function failure(doing: string, err: unknown): PullRequestCommentError {
  const { status, message } = explainApiError('pr-comment', doing, err, PERMISSION_HINT)
  return new PullRequestCommentError(message, status)
}

interface ListedComment {
  id: number
  body?: string | null
  user?: { login?: string } | null
}

/**
 * Updates this job's comment on the pull request, or creates one.
 *
 * This job's comment starts with `marker` ("starts with" rather than
 * "contains", so a reply quoting it is never taken for it) AND was written by
 * the token's own identity (see token-identity.ts). The marker alone proves
 * nothing: anyone who can comment could plant it, then edit "their" report
 * to say that everything passed. A comment by anyone else is never edited,
 * whatever it carries. (Who can still write as the token's identity can
 * write such a comment: for `GITHUB_TOKEN`, another workflow of the
 * repository; for fork pull requests that token is read-only.)
 *
 * The identity is asked only when some comment carries the marker, so a
 * first run costs no extra request. When it cannot be learned, no comment is
 * edited: a new one is created, with a warning. Throws
 * `PullRequestCommentError` only.
 */
export async function upsertPullRequestComment(
  octokit: Octokit,
  params: UpsertCommentParams
): Promise<UpsertCommentResult> {
  const { owner, repo, issueNumber, marker } = params
  const body = params.body.startsWith(marker) ? params.body : `${marker}\n${params.body}`
  const where = `pull request #${issueNumber} of ${owner}/${repo}`
  if (body.length > GITHUB_COMMENT_LIMIT) {
    throw new PullRequestCommentError(
      `pr-comment: the comment is ${body.length} characters long, over GitHub's limit of ${GITHUB_COMMENT_LIMIT}; it was not posted.`,
      null
    )
  }

  const warnings: string[] = []
  const ignored: UpsertCommentResult['ignored'] = []
  /** The token's login; null once it is known that it cannot be learned. */
  let login: string | null | undefined
  let existing: ListedComment | undefined
  try {
    const pages = octokit.paginate.iterator(octokit.rest.issues.listComments, {
      owner,
      repo,
      issue_number: issueNumber,
      per_page: 100
    })
    scan: for await (const { data } of pages) {
      for (const comment of data as ListedComment[]) {
        if (!(comment.body ?? '').trimStart().startsWith(marker)) continue
        if (login === undefined) login = await learnLogin(octokit, warnings)
        if (login === null) break scan
        if (isAuthor(comment.user, login)) {
          existing = comment
          break scan
        }
        ignored.push({ id: comment.id, author: comment.user?.login ?? 'unknown' })
      }
    }
  } catch (err) {
    if (err instanceof PullRequestCommentError) throw err
    throw failure(`list the comments of ${where}`, err)
  }

  if (existing) {
    try {
      const { data } = await octokit.rest.issues.updateComment({
        owner,
        repo,
        comment_id: existing.id,
        body
      })
      return { action: 'updated', id: data.id, url: data.html_url, warnings, ignored }
    } catch (err) {
      // Deleted since we listed it: fall through and create a new one.
      if ((err as { status?: unknown }).status !== 404) {
        throw failure(`update comment ${existing.id} on ${where}`, err)
      }
    }
  }

  try {
    const { data } = await octokit.rest.issues.createComment({
      owner,
      repo,
      issue_number: issueNumber,
      body
    })
    return { action: 'created', id: data.id, url: data.html_url, warnings, ignored }
  } catch (err) {
    throw failure(`write a comment on ${where}`, err)
  }
}

/**
 * The token's login, or null (with a warning) when it cannot be learned. An
 * API that does not answer at all ends the attempt: the comment could not be
 * written either.
 */
async function learnLogin(octokit: Octokit, warnings: string[]): Promise<string | null> {
  try {
    return await tokenLogin(octokit)
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err)
    if (err instanceof TokenIdentityError && err.unreachable) {
      throw new PullRequestCommentError(
        `pr-comment: could not learn who the token is (${reason}). The GitHub API could not be reached or did not answer in time; no comment was written. The deploy result is not affected.`,
        null
      )
    }
    warnings.push(
      `pr-comment: could not learn who the token is (${reason}), so no existing comment was edited (only a comment the token itself wrote may be) and a new one was created instead.`
    )
    return null
  }
}
