#!/usr/bin/env bash
# Prepares this machine for the sandbox fleet (test-support/fleet): sshd, Nix,
# and a login user whose shell is plain `sh`. Idempotent and quiet when
# everything is already in place; safe to run before every test run.
set -euo pipefail

FLEET_USER=deployrs-fleet
FLEET_HOME=/var/lib/deployrs-fleet

say() { printf 'setup-system: %s\n' "$*" >&2; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# --- packages ---------------------------------------------------------------
missing=()
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-client)
command -v nix >/dev/null 2>&1 || missing+=(nix-bin)

if [ "${#missing[@]}" -gt 0 ]; then
  if ! is_root; then
    say "missing packages: ${missing[*]}"
    say "install them as root: apt-get update && apt-get install -y ${missing[*]}"
    exit 1
  fi
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! is_root; then
  # Without root there is no fleet user and no /run/sshd to create; the fleet
  # falls back to the current user (slower remote commands, still correct).
  [ -d /run/sshd ] || say "note: /run/sshd is missing (needs root: mkdir -p /run/sshd)"
  exit 0
fi

# sshd refuses to start without its privilege-separation directory.
mkdir -p /run/sshd
chmod 0755 /run/sshd

# --- fleet login user ---------------------------------------------------------
# Remote commands of the fleet run under this user so they go through /bin/sh
# and not root's ~/.bashrc, which does slow set-up on every ssh command.
if ! getent passwd "$FLEET_USER" >/dev/null; then
  useradd --system --home-dir "$FLEET_HOME" --create-home --shell /bin/sh \
    --comment 'deploy-rs action sandbox fleet' "$FLEET_USER"
fi
mkdir -p "$FLEET_HOME"
chown "$FLEET_USER:" "$FLEET_HOME"
if [ "$(getent passwd "$FLEET_USER" | cut -d: -f7)" != /bin/sh ]; then
  usermod --shell /bin/sh "$FLEET_USER"
fi
# A fresh account has password "!" (locked); with UsePAM no, sshd refuses
# locked accounts even for key logins. "*" means: no password, not locked.
case "$(getent shadow "$FLEET_USER" | cut -d: -f2)" in
  '*') ;;
  *) usermod -p '*' "$FLEET_USER" ;;
esac

# --- Nix: flake evaluation offline, as root, without a daemon -----------------
probe_dir=$(mktemp -d)
trap 'rm -rf "$probe_dir"' EXIT
cat >"$probe_dir/flake.nix" <<'EOF'
{ outputs = { self }: { probe = "ok"; }; }
EOF
if ! out=$(nix --extra-experimental-features 'nix-command flakes' eval --raw \
  "path:$probe_dir#probe" 2>&1) || [ "$out" != ok ]; then
  say "nix cannot evaluate a local flake as root without a daemon:"
  printf '%s\n' "$out" >&2
  say "check that /nix/var/nix exists and is writable by root"
  exit 1
fi
