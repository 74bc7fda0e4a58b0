/**
 * Public types of the sandbox fleet: local sshd "hosts", a fixture flake that
 * points at them, and a deploy-rs stand-in that deploys to them for real over
 * ssh. The scenario types are also the JSON contract with the stand-in
 * (test-support/deploy-rs-stand-in/scenario.mjs reads the same shape).
 */
import type { Generation, GenerationSpec } from './closures.js'

import type { FakeSystemdSpec } from './fake-systemd.js'

export type { FakeSystemdSpec }

/**
 * What happens on a node's host when the stand-in deploys it. The lines each
 * prints are upstream's (see test-support/deploy-rs-stand-in and README.md).
 */
export type Behaviour =
  /** deploys / dry-activates fine */
  | 'ok'
  /** `Failed to build profile on node N: N`, exit 1, nothing pushed */
  | 'build-fails'
  /** the activation script exits 1. With the profile's autoRollback (default) activate-rs
   *  de-activates (`De-activating due to error` ...) and the host is back on the previous
   *  generation; with `autoRollback: false` it stays on the failed one. Either way deploy
   *  ends with `Deployment to node N failed, rolled back to previous generation` unless
   *  `--auto-rollback false` / `--rollback-succeeded false` (then `Failed to deploy profile to node N: ...`) */
  | 'activation-fails'
  /** the host's sshd stops accepting connections right after the push: the activation's
   *  ssh fails with ssh's own `connect to host ... Connection refused`, Some(255) */
  | 'ssh-lost'
  /** magic rollback: the new configuration shuts ssh out once the waiter is connected, so the
   *  confirmation is refused; the host de-activates after a short simulated confirmTimeout
   *  (and lets ssh in again); deploy panics (upstream #287), exit 101 */
  | 'confirm-timeout'
  /** hangs during activation with a live `ssh` child running a bounded sleep on the host */
  | 'hang'
  /** the stand-in SIGKILLs itself right after `Activating profile ...` */
  | 'killed'
  /** switch-to-configuration refuses: `Pre-switch check 'switchInhibitors' failed`,
   *  `Pre-switch checks failed`. Dry run: still `Completed dry-activate!`, exit 0; a real
   *  activation fails like 'activation-fails' with these lines */
  | 'dry-pre-switch-fails'
  /** the three-line incompatible `init` warning (exit 100 on the host); dry run exit 0 */
  | 'dry-incompatible-init'
  /** `This is not a NixOS installation!`; dry run exit 0 */
  | 'dry-not-nixos'
  /** `Could not acquire lock`; dry run exit 0 */
  | 'dry-lock-busy'
  /** the host prints `floodBytes` of log lines during activation, then succeeds */
  | 'flood'

/**
 * Which deploy-rs release the stand-in plays (src/cli.rs run_deploy's wording):
 * `master` (d5eff7f, default): `Deployment to node N failed, rolled back to previous generation`;
 * `2023` (releases 2022-11 to 2024-06): `Deployment failed, rolled back to previous generation`;
 * `2022` (before 2022-11): no final line, exit 0 after a failed activation.
 */
export type DeployRsVersion = 'master' | '2023' | '2022'

/** What `switch-to-configuration dry-activate` reports for a node. */
export interface DryActivateChanges {
  stop?: string[]
  notStop?: string[]
  restartSystemd?: boolean
  reload?: string[]
  restart?: string[]
  start?: string[]
}

export type HostKind = 'sshd' | 'blackhole' | 'down'

export interface FleetNodeSpec {
  /** node name in the flake; may contain dots (`db.lan`) */
  name: string
  /** sshd (default): a real sshd; blackhole: accepts TCP and never speaks; down: nothing listens */
  kind?: HostKind
  behaviour?: Behaviour
  /** the deploy-rs release the stand-in plays for this node (default master) */
  deployRsVersion?: DeployRsVersion
  /** `autoRollback` of the node in the flake (left out when undefined: deploy-rs's default, true) */
  autoRollback?: boolean
  /** `magicRollback` of the node in the flake (left out when undefined: true) */
  magicRollback?: boolean
  /** profiles of the node, deployed in this order; default ['system'] */
  profiles?: string[]
  /** time spent on the host (a `sleep` in the remote command) per push and per activation */
  hostCostMs?: number
  /** bytes the 'flood' behaviour prints (default 1 MiB) */
  floodBytes?: number
  /** where the 'flood' behaviour prints: default 'both' (half on each) */
  floodStream?: 'stdout' | 'stderr' | 'both'
  /** what a dry activation of this node reports */
  changes?: DryActivateChanges
  /** lines the host prints verbatim on its stdout during (dry) activation, e.g. to test log escaping */
  extraLines?: string[]
  /** `sshUser` in the flake: default the fleet's login user; null leaves it out */
  sshUser?: string | null
  /** what the host's systemctl / journalctl say before and after an activation (default: healthy) */
  systemd?: FakeSystemdSpec
  /**
   * What each profile of the node runs now and what the flake deploys: real
   * store paths (closures.ts). Default: DEFAULT_GENERATIONS (same packages,
   * `etc` rebuilt). `current: null`: a first deploy, the profile does not exist.
   */
  generations?: NodeGenerations
  /**
   * true (default): each profile gets a `profilePath` of its own in the flake,
   * a real profile in the host's state dir (`<stateDir>/profiles/<profile>`)
   * that activations move like `nix-env -p PATH --set`. false: no
   * `profilePath`; activate-rs would use the Nix state dir
   * (`/nix/var/nix/profiles/...`), which the sandbox never touches: the
   * stand-in keeps that profile in `<stateDir>/stand-in-profiles/` instead.
   */
  profilePath?: boolean
}

/** A generation as a test describes it; the top level's name defaults to `<node>-<profile>`. */
export type GenerationContents = Omit<GenerationSpec, 'name'> & { name?: string }

export interface NodeGenerations {
  /** The generation the host runs before the deploy; null: none (first deploy). */
  current?: GenerationContents | null
  /** The generation the flake deploys (the profile's `path`). */
  next?: GenerationContents
}

/** One profile of a node on its sandbox host. */
export interface FleetProfile {
  /** the profile's `profilePath` in the flake, null when it has none */
  profilePath: string | null
  /** where the profile's symlinks live on the host (profilePath, or the stand-in's own place) */
  location: string
  /** the generation the host ran when the fleet started; null: none */
  current: Generation | null
  /** the generation the flake deploys */
  next: Generation
}

export interface StartFleetOptions {
  nodes: FleetNodeSpec[]
  /** last octet of the first host's address 127.0.0.N (default 2) */
  firstAddress?: number
  /** first port tried; busy ports are skipped (default derived from the pid, 20000-29999) */
  basePort?: number
  /** extra public key lines authorized on every host, besides the fleet's client key */
  authorizedKeys?: string[]
}

export interface FleetHost {
  name: string
  kind: HostKind
  /** 127.0.0.N */
  address: string
  port: number
  /** `[127.0.0.N]:PORT ssh-ed25519 AAAA...` (the real host key), null unless kind is sshd */
  hostKeyLine: string | null
  /** the host's state dir, FLEET_HOST_DIR of its remote commands (log, canaries) */
  stateDir: string
  /** pid of the host's sshd listener (a new one after a host reopened it), null unless kind is sshd */
  pid: number | null
  /** the node's profiles by name: profile paths and generations */
  profiles: Record<string, FleetProfile>
}

export interface ClientKey {
  privateKeyPath: string
  privateKeyText: string
  /** `ssh-ed25519 AAAA... comment` */
  publicKey: string
}

/** One invocation of the stand-in `deploy` or of the `nix` wrapper, as logged. */
export interface FleetCall {
  tool: 'deploy' | 'nix'
  argv: string[]
  cwd: string
  env?: { NIX_SSHOPTS?: string }
}

export interface Fleet {
  /** temp dir (under os.tmpdir(), outside the repo) holding everything */
  dir: string
  /** the fixture flake: flake.nix with deploy.nodes only, no inputs */
  flakeDir: string
  /** user that logs in on the hosts (deployrs-fleet, or the current user as a fallback) */
  loginUser: string
  /** ed25519, unencrypted, authorized on every host */
  clientKey: ClientKey
  hosts: FleetHost[]
  /** file with every sshd host's hostKeyLine */
  knownHostsPath: string
  /** ssh config with each host's port, the client key and strict host keys: `--ssh-opts "-F FILE"` reaches any node */
  sshConfigPath: string
  /** argv prefix that runs the stand-in: [node, /abs/.../deploy.mjs] */
  standInCommand: string[]
  /** holds `deploy` (the stand-in) and `nix` (logs, then runs the real nix) — prepend to PATH */
  binDir: string
  /** env the stand-in and the wrappers read (scenario file, calls log); baked into binDir's scripts too */
  env: Record<string, string>
  /** things worth knowing about this fleet, e.g. that it fell back to the current user */
  notes: string[]
  /** the host of a node; throws for an unknown node */
  host(node: string): FleetHost
  /** ssh options that reach a node strictly (pinned host key, the client key, batch mode, its port) */
  sshOptsFor(node: string): string[]
  /** every stand-in / nix invocation so far, in order */
  calls(): Promise<FleetCall[]>
  /** what really happened on the node's host, e.g. ['push system /nix/store/...', 'activate system', 'confirm system'] */
  hostLog(node: string): Promise<string[]>
  /** the store path a node's profile points at now (`readlink -f`), null when it has no generation */
  currentGeneration(node: string, profile?: string): Promise<string | null>
  /** changes a node's behaviour for the next stand-in runs */
  setBehaviour(node: string, behaviour: Behaviour): Promise<void>
  /** authorizes one more public key line on every host (takes effect on the next login) */
  authorizeKey(publicKeyLine: string): Promise<void>
  /** sets a node's systemd state (see FakeSystemdSpec); "before" is the host as it is now */
  setSystemd(node: string, spec: FakeSystemdSpec): Promise<void>
  /** every systemctl / journalctl call on the node's host so far, e.g. 'systemctl is-system-running' */
  systemdCalls(node: string): Promise<string[]>
  /** how many ssh sessions (accepted logins) the node's host has had so far */
  sessions(node: string): Promise<number>
  /** ends every process of the fleet by pid (sshds, remote commands, stand-in runs left behind), waits, removes dir */
  stop(): Promise<void>
}

/** The scenario file the stand-in reads (env DEPLOY_RS_STAND_IN_SCENARIO). */
export interface ScenarioFile {
  nodes: Record<string, ScenarioNode>
}

export interface ScenarioNode {
  behaviour: Behaviour
  deployRsVersion: DeployRsVersion
  hostCostMs: number
  floodBytes: number
  floodStream: 'stdout' | 'stderr' | 'both'
  changes: DryActivateChanges
  extraLines: string[]
}
