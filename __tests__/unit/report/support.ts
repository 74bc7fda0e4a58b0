/** Shared by the report tests: fixtures, golden files, Markdown → HTML. */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { expect } from '@jest/globals'
import { marked } from 'marked'
import type { NodeReport, NodeResult, RunContext } from '../../../src/model.js'

export const FIXTURES = fileURLToPath(new URL('../../fixtures/report/', import.meta.url))

export interface Fixture {
  context: RunContext
  nodes: NodeReport[]
}

export function loadFixture(name: 'mixed-deploy' | 'mixed-dry-run'): Fixture {
  return JSON.parse(readFileSync(`${FIXTURES}${name}.json`, 'utf8')) as Fixture
}

/** Compares with the committed golden file; `UPDATE_GOLDEN=1` rewrites it instead. */
export function expectGolden(name: string, actual: string): void {
  const file = `${FIXTURES}${name}`
  if (process.env.UPDATE_GOLDEN === '1') {
    writeFileSync(file, actual)
    return
  }
  expect(actual).toBe(readFileSync(file, 'utf8'))
}

/** GitHub Flavored Markdown → HTML, as a stand-in for GitHub's renderer. */
export function toHtml(markdown: string): string {
  return marked.parse(markdown, { gfm: true, async: false })
}

export function result(overrides: Partial<NodeResult> = {}): NodeResult {
  return {
    node: 'web-1',
    hostname: 'web-1.example.net',
    profiles: ['system'],
    status: 'deployed',
    stage: null,
    exitCode: 0,
    durationMs: 1000,
    dryRun: false,
    changes: null,
    health: null,
    error: null,
    ...overrides
  }
}

export function report(overrides: Partial<NodeResult> = {}, logTail: string[] = []): NodeReport {
  return {
    result: result(overrides),
    logFile: '/tmp/none.log',
    logTail,
    logBytes: logTail.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0)
  }
}

export function context(overrides: Partial<RunContext> = {}): RunContext {
  return {
    flake: '.',
    dryRun: false,
    event: 'push',
    sha: '0123456789abcdef0123456789abcdef01234567',
    actor: 'octocat',
    repositoryUrl: 'https://github.com/acme/infra',
    runUrl: 'https://github.com/acme/infra/actions/runs/1',
    checkFailure: null,
    runError: null,
    cancelled: false,
    ...overrides
  }
}

/** `<tr>` rows of the first table in some HTML, each as its list of cell contents. */
export function tableRows(html: string): string[][] {
  const table = /<table>[\s\S]*?<\/table>/.exec(html)?.[0] ?? ''
  return [...table.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map(row =>
    [...row[1].matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map(cell => cell[1])
  )
}
