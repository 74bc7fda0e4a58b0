/**
 * Which user logs in on the fleet's hosts. The dedicated `deployrs-fleet`
 * user (made by scripts/setup-system.sh) has /bin/sh as its shell, so remote
 * commands skip root's slow ~/.bashrc. Without it, or when not root (a non-root
 * sshd can only let its own user in), the current user is used instead.
 */
import { readFileSync } from 'node:fs'
import { userInfo } from 'node:os'

export const FLEET_USER = 'deployrs-fleet'

export interface LoginUser {
  name: string
  uid: number
  gid: number
  /** why the dedicated user is not used, null when it is */
  fallbackReason: string | null
}

function findPasswdEntry(name: string): { uid: number; gid: number } | null {
  let passwd: string
  try {
    passwd = readFileSync('/etc/passwd', 'utf8')
  } catch {
    return null
  }
  for (const line of passwd.split('\n')) {
    const fields = line.split(':')
    if (fields[0] === name && fields.length >= 7) {
      return { uid: Number(fields[2]), gid: Number(fields[3]) }
    }
  }
  return null
}

export function resolveLoginUser(): LoginUser {
  const me = userInfo()
  const current = (fallbackReason: string): LoginUser => ({
    name: me.username,
    uid: me.uid,
    gid: me.gid,
    fallbackReason
  })
  if (me.uid !== 0) {
    return current(`not root: hosts let in the current user ${me.username}`)
  }
  const entry = findPasswdEntry(FLEET_USER)
  if (!entry) {
    return current(
      `user ${FLEET_USER} is missing (run scripts/setup-system.sh): hosts let in ${me.username}, ` +
        `whose login shell may make every remote command slower`
    )
  }
  return { name: FLEET_USER, ...entry, fallbackReason: null }
}
