/**
 * GitHub deployments, one per node (environment = node name), for the
 * `deployments: true` input. Only for real deploys: the caller must never
 * create a tracker on a dry run (a dry run deploys nothing, and a deployment
 * record would claim it did).
 *
 * Every API failure becomes a warning through `warn`; nothing here throws or
 * changes the step's result. After a permission error (401/403/404) or a
 * request that got no answer in time the tracker stops calling the API, so a
 * missing permission gives one warning, not one per node, and an API that
 * stalls costs one timeout per request in flight, not three per node.
 */
import type { NodeStatus } from '../model.js'
import { explainApiError, type Octokit } from './api-error.js'
import { redactSecrets } from '../secret-registry.js'
import { capChars, oneLine } from './markdown.js'

export interface DeploymentTrackerOptions {
  owner: string
  repo: string
  /** The commit sha being deployed. */
  ref: string
  /** Link to the workflow run, shown as the deployment's log; null outside GitHub. */
  runUrl: string | null
  warn: (message: string) => void
}

export interface DeploymentTracker {
  /** Creates the node's deployment and marks it `in_progress`. Call before deploying the node. */
  start(node: string): Promise<void>
  /**
   * Records the node's final state. Does nothing for a node whose `start`
   * was never called or failed (e.g. nodes skipped before starting).
   */
  finish(node: string, status: NodeStatus, error: string | null): Promise<void>
}

type DeploymentState = 'success' | 'failure' | 'error' | 'inactive'

/**
 * deployed → success; cancelled → error (the deploy was interrupted, its
 * outcome is unknown); skipped → inactive (nothing was changed);
 * everything else → failure.
 */
export function deploymentState(status: NodeStatus): DeploymentState {
  switch (status) {
    case 'deployed':
    case 'dry-run':
      return 'success'
    case 'cancelled':
      return 'error'
    case 'skipped':
      return 'inactive'
    default:
      return 'failure'
  }
}

/** GitHub's limit for a deployment (status) description. */
const DESCRIPTION_MAX = 140

export function describeFinish(status: NodeStatus, error: string | null): string {
  const text =
    status === 'deployed'
      ? 'deploy-rs: deployed'
      : `deploy-rs: ${status}${error ? `: ${error}` : ''}`
  // The error may quote a host's log: redacted before it is shortened, which could cut a secret in half.
  return capChars(oneLine(redactSecrets(text)), DESCRIPTION_MAX)
}

const PERMISSION_HINT =
  "The token needs `deployments: write` (add it to the job's `permissions`), or set `deployments: false`. The deploy itself is not affected."

export function createDeploymentTracker(
  octokit: Octokit,
  opts: DeploymentTrackerOptions
): DeploymentTracker {
  const { owner, repo, ref, runUrl, warn } = opts
  /** Per node: the start in flight, resolving to the deployment id or null. */
  const started = new Map<string, Promise<number | null>>()
  let disabled = false

  const report = (doing: string, err: unknown): void => {
    const { status, message, timedOut } = explainApiError(
      'deployments',
      doing,
      err,
      PERMISSION_HINT
    )
    if (disabled) return
    if (timedOut || status === 401 || status === 403 || status === 404) {
      disabled = true
      warn(`${message} No further deployment updates will be attempted in this run.`)
    } else {
      warn(message)
    }
  }

  const setState = async (
    id: number,
    node: string,
    state: DeploymentState | 'in_progress',
    description: string
  ): Promise<void> => {
    if (disabled) return
    try {
      await octokit.rest.repos.createDeploymentStatus({
        owner,
        repo,
        deployment_id: id,
        state,
        description,
        environment: node,
        ...(runUrl ? { log_url: runUrl } : {})
      })
    } catch (err) {
      report(`set the deployment of ${node} to ${state}`, err)
    }
  }

  const create = async (node: string): Promise<number | null> => {
    if (disabled) return null
    let id: number
    try {
      const { data } = await octokit.rest.repos.createDeployment({
        owner,
        repo,
        ref,
        environment: node,
        task: 'deploy',
        description: capChars(oneLine(`deploy-rs: deploy ${node}`), DESCRIPTION_MAX),
        required_contexts: [],
        auto_merge: false,
        transient_environment: false
      })
      if (!('id' in data) || typeof data.id !== 'number') {
        warn(
          `deployments: GitHub did not create a deployment for ${node}: ${oneLine(String((data as { message?: unknown }).message ?? 'no id returned'))}`
        )
        return null
      }
      id = data.id
    } catch (err) {
      report(`create a deployment for ${node}`, err)
      return null
    }
    await setState(
      id,
      node,
      'in_progress',
      capChars(oneLine(`deploy-rs: deploying ${node}`), DESCRIPTION_MAX)
    )
    return id
  }

  return {
    start(node: string): Promise<void> {
      const pending = create(node)
      started.set(node, pending)
      return pending.then(() => undefined)
    },
    async finish(node: string, status: NodeStatus, error: string | null): Promise<void> {
      const id = await started.get(node)
      if (id === undefined || id === null) return
      await setState(id, node, deploymentState(status), describeFinish(status, error))
    }
  }
}
