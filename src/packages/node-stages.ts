import type { RunCommand } from '../commands/process.js'
import type { NodeStage } from '../deploy/node-pipeline.js'
import type { PlannedNode } from '../plan/targets.js'
import { runRemoteCommand, sshUserFor } from '../ssh/remote-command.js'
import type { Workspace } from '../ssh/workspace.js'
import type { CurrentGeneration, ProfileSettings } from './remote.js'
import { readCurrentGenerations, readNodePackages, type RunOnNode } from './stages.js'

/**
 * "What a change really changes" as two stages of each node's pipeline:
 * before deploy-rs, where every deployed profile points now; after deploy-rs
 * pushed (deploy and dry run alike, and also when the activation then
 * failed), both closures and their diff: the result's `packages`, and a
 * note for the report when they cannot be known. Neither fails a node.
 */

export interface PackagesStageSettings {
  /** The `ssh-user` input (deploy-rs `--ssh-user`), null when unset. */
  readonly sshUser: string | null
  /** deploy-rs arguments from `deploy-args` (a `--profile-user` there wins, as in deploy-rs). */
  readonly deployArgs: readonly string[]
  /** Runs the ssh command (src/commands/process.ts runCommand; a fake in tests). */
  readonly run?: RunCommand
}

/** `--profile-user U` (or `--profile-user=U`) among deploy-rs's arguments, else null. */
export function profileUserOverride(args: readonly string[]): string | null {
  let found: string | null = null
  args.forEach((arg, i) => {
    if (arg === '--profile-user' && i + 1 < args.length) found = args[i + 1] ?? null
    else if (arg.startsWith('--profile-user=')) found = arg.slice('--profile-user='.length)
  })
  return found
}

/**
 * The profiles as activate-rs will see them. The profile user is deploy-rs's
 * (`--profile-user`, else `user`, else the ssh user: `--ssh-user`, else
 * `sshUser`); null when deploy-rs has none either (it then refuses the node).
 */
export function profilesOf(
  node: PlannedNode,
  settings: PackagesStageSettings
): (ProfileSettings | null)[] {
  const override = profileUserOverride(settings.deployArgs)
  return node.targetProfiles.map(name => {
    const own = node.profileSettings?.[name]
    const user = override ?? own?.user ?? settings.sshUser ?? own?.sshUser ?? node.sshUser
    if (!user) return null
    return { name, profilePath: own?.profilePath ?? null, user }
  })
}

export function packagesStages(
  workspace: Workspace,
  settings: PackagesStageSettings
): { before: NodeStage; after: NodeStage } {
  const currents = new Map<string, CurrentGeneration[]>()
  const onNode =
    (node: PlannedNode, abortSignal: AbortSignal): RunOnNode =>
    request =>
      runRemoteCommand({
        workspace,
        target: node,
        user: sshUserFor(node, settings.sshUser),
        command: request.command,
        timeoutMs: request.timeoutMs,
        maxOutputBytes: request.maxOutputBytes,
        abortSignal,
        run: settings.run
      })

  return {
    before: {
      name: 'current generation',
      run: async (node, abortSignal) => {
        const profiles = profilesOf(node, settings)
        const known = profiles.filter((p): p is ProfileSettings => p !== null)
        const read = await readCurrentGenerations(known, onNode(node, abortSignal))
        currents.set(
          node.name,
          profiles.map((profile, i) =>
            profile === null
              ? {
                  profile: node.targetProfiles[i] ?? '?',
                  profilePath: null,
                  storePath: null,
                  reason: 'no profile user (neither user nor sshUser)'
                }
              : (read.shift() as CurrentGeneration)
          )
        )
        return {}
      }
    },
    after: {
      name: 'packages',
      alsoAfterPush: true,
      run: async (node, abortSignal, deployed) => {
        const before = currents.get(node.name)
        if (before === undefined) return {}
        const nextPaths = node.targetProfiles.map(p => deployed?.newPaths?.[p] ?? null)
        const found = await readNodePackages(before, nextPaths, onNode(node, abortSignal))
        return { fields: { packages: found.packages }, record: { packagesNote: found.note } }
      }
    }
  }
}
