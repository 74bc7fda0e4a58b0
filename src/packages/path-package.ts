import { parseDrvName, storePathName, type DrvName } from './nix-names.js'

/**
 * A trailing output name (`-bin`, `-dev`, `-lib`, `-man`, `-modules`, `-lib64`),
 * dropped before the name is parsed, as `nix store diff-closures` does
 * (NixOS/nix src/nix/diff-closures.cc, `getClosureInfo`): `openssl-3.0.13-bin`
 * and `openssl-3.0.13` are one package `openssl` at `3.0.13`, not two versions.
 * Like diff-closures, this cannot tell an output from a lower-case version
 * suffix (`foo-1.0-unstable` reads as `foo 1.0`).
 */
const OUTPUT_SUFFIX = /^(.*)-(?:[a-z]+|lib32|lib64)$/

/**
 * The package a store path belongs to, or null when its name carries no
 * version (scripts, `etc`, unit files, `-source`, `system-units`...): those
 * count only in the closure size.
 */
export function packageOfStorePath(storePath: string): DrvName | null {
  const fullName = storePathName(storePath)
  const withoutOutput = OUTPUT_SUFFIX.exec(fullName)?.[1] ?? fullName
  const parsed = parseDrvName(withoutOutput)
  return parsed.version === '' ? null : parsed
}
