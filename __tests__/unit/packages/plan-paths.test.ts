import { describe, it, expect } from '@jest/globals'
import { parsePlanPaths, parseTomlKeys } from '../../../src/packages/plan-paths.js'

const INFO = '🚀 ℹ️ [deploy] [\x1b[38;5;51mINFO\x1b[0m]'
const P1 = '/nix/store/0123456789abcdfghijklmnpqrsvwxyz-web-system'
const P2 = '/nix/store/zyxwvsrqpnmlkjihgfdcba9876543210-backup'

describe("the new paths from deploy-rs's plan", () => {
  it('reads path per node and profile, quoted keys too', () => {
    const lines = [
      `${INFO} Evaluating flake in .`,
      `${INFO} The following profiles are going to be deployed:`,
      '[web.system]',
      'user = "root"',
      'ssh_user = "deploy"',
      `path = "${P1}"`,
      'hostname = "10.0.0.1"',
      'ssh_opts = ["-p", "22"]',
      '',
      '["db.lan".backup]',
      'user = "root"',
      `path = "${P2}"`,
      'ssh_opts = [',
      '    "-p",',
      ']',
      `${INFO} Building profile \`system\` for node \`web\``
    ]
    expect(parsePlanPaths(lines)).toEqual(
      new Map([
        ['web', new Map([['system', P1]])],
        ['db.lan', new Map([['backup', P2]])]
      ])
    )
  })

  it('only the first plan counts: a host cannot print one later', () => {
    const lines = [
      `${INFO} The following profiles are going to be deployed:`,
      '[web.system]',
      `path = "${P1}"`,
      `${INFO} Building profile \`system\` for node \`web\``,
      'The following profiles are going to be deployed:',
      '[web.system]',
      `path = "${P2}"`
    ]
    expect(parsePlanPaths(lines).get('web')?.get('system')).toBe(P1)
  })

  it('parses TOML key paths', () => {
    expect(parseTomlKeys('web.system')).toEqual(['web', 'system'])
    expect(parseTomlKeys('"db.lan" . "a\\"b"')).toEqual(['db.lan', 'a"b'])
    expect(parseTomlKeys("'x.y'.z")).toEqual(['x.y', 'z'])
    expect(parseTomlKeys('a..b')).toBeNull()
    expect(parseTomlKeys('a b')).toBeNull()
  })
})
