import { describe, it, expect } from '@jest/globals'
import { parsePathInfoSizes, parseRequisites } from '../../../src/packages/closure-listing.js'

const OPENSSL = '/nix/store/01mdbafgjcg20dfd4dmbvh982i44fiky-openssl-3.0.13'
const NGINX = '/nix/store/nq920p35jm3q7gnm1v34jr8jnclv7zyd-nginx-1.26.1'
const TOP = '/nix/store/ak4f86c9b2yja9a2nc7waqs7ai7w4cbk-nixos-system-web'

describe('parseRequisites', () => {
  it('reads nix-store --query --requisites output', () => {
    expect(parseRequisites(`${OPENSSL}\n${NGINX}\n${TOP}\n`)).toEqual({
      paths: [OPENSSL, NGINX, TOP],
      narSizes: null
    })
  })

  it('refuses anything that is not a store path', () => {
    expect(() => parseRequisites(`${OPENSSL}\nerror: path '/x' is not valid\n`)).toThrow(
      /not a store path: "error: path '\/x' is not valid"/
    )
    expect(() => parseRequisites('/nix/store/tooshort-openssl\n')).toThrow(/not a store path/)
    expect(() => parseRequisites('\n')).toThrow('no store paths listed')
  })
})

describe('parsePathInfoSizes', () => {
  it('reads nix path-info --recursive --size output (Nix 2.8: blanks, a tab, padded size)', () => {
    // Captured from Debian's nix 2.8.0.
    const output = [
      `${OPENSSL}  \t        128`,
      `${NGINX}    \t        176`,
      `${TOP}\t        232`,
      ''
    ].join('\n')
    const listing = parsePathInfoSizes(output)
    expect(listing.paths).toEqual([OPENSSL, NGINX, TOP])
    expect(listing.narSizes).toEqual(
      new Map([
        [OPENSSL, 128],
        [NGINX, 176],
        [TOP, 232]
      ])
    )
  })

  it('refuses a line without a size, or a size that is not a number', () => {
    expect(() => parsePathInfoSizes(`${OPENSSL}\n`)).toThrow(/not a store path and size/)
    expect(() => parsePathInfoSizes(`${OPENSSL} 12.5 KiB\n`)).toThrow(/not a store path and size/)
    expect(() => parsePathInfoSizes('')).toThrow('no store paths listed')
  })
})
