/**
 * The workflows we teach are safe to copy: no `run:` script pastes an
 * expression (outputs carry node names from the flake, which may hold a `'`;
 * they go through `env:`), and the pull request dry run runs only for the
 * repository's own branches, behind an environment a reviewer approves (a dry
 * run executes the pull request's code as root on every node).
 */
import { describe, expect, it } from '@jest/globals'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', '..', '..')

interface Step {
  run?: string
  uses?: string
  env?: Record<string, string>
}
interface Job {
  if?: string
  environment?: string | { name: string }
  steps?: Step[]
}
interface Workflow {
  on: unknown
  jobs: Record<string, Job>
}

const SAME_REPOSITORY = 'github.event.pull_request.head.repo.full_name == github.repository'

const exampleFiles = readdirSync(join(root, 'examples')).filter(file => file.endsWith('.yml'))
const examples = exampleFiles.map(file => ({
  name: `examples/${file}`,
  text: readFileSync(join(root, 'examples', file), 'utf8')
}))

/** The README's YAML code blocks: whole workflows, or lists of steps. */
const readmeBlocks = [
  ...readFileSync(join(root, 'README.md'), 'utf8').matchAll(/```yaml\n([\s\S]*?)```/g)
].map((match, i) => ({ name: `README.md yaml block ${i + 1}`, text: match[1] }))

/** Every step of a parsed YAML document, wherever it stands. */
function stepsOf(doc: unknown): Step[] {
  if (Array.isArray(doc)) return doc.flatMap(item => (isStep(item) ? [item] : stepsOf(item)))
  if (doc && typeof doc === 'object') return Object.values(doc).flatMap(stepsOf)
  return []
}
function isStep(item: unknown): item is Step {
  return !!item && typeof item === 'object' && ('run' in item || 'uses' in item)
}

describe.each([...examples, ...readmeBlocks])('$name', ({ text }) => {
  it('pastes no ${{ expression }} into a run: script (values go through env:)', () => {
    const runs = stepsOf(parse(text)).flatMap(step => (step.run === undefined ? [] : [step.run]))
    expect(runs.filter(run => run.includes('${{'))).toEqual([])
  })
})

describe('the pull request dry run', () => {
  const prWorkflows = [...examples, ...readmeBlocks]
    .map(({ name, text }) => ({ name, doc: parse(text) as Workflow }))
    .filter(
      ({ doc }) => doc && typeof doc.on === 'object' && doc.on !== null && 'pull_request' in doc.on
    )

  it('is shipped in examples/ and in the README', () => {
    expect(prWorkflows.map(w => w.name)).toContain('examples/pull-request-dry-run.yml')
    expect(prWorkflows.some(w => w.name.startsWith('README.md'))).toBe(true)
  })

  it('runs only for branches of the repository, behind an environment, in every copy', () => {
    for (const { name, doc } of prWorkflows) {
      for (const job of Object.values(doc.jobs)) {
        const usesAction = (job.steps ?? []).some(s => s.uses?.startsWith('deploy-rs-action/'))
        if (!usesAction) continue
        expect({ name, if: job.if }).toEqual({ name, if: SAME_REPOSITORY })
        expect({ name, environment: Boolean(job.environment) }).toEqual({ name, environment: true })
      }
    }
  })

  it('says in the README that a dry run is not a security boundary', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8')
    expect(readme).toMatch(/a dry run is not a\s+sandbox/i)
    expect(readme).toMatch(/as root on every node/)
    expect(readme).toMatch(/required reviewers/)
  })
})
