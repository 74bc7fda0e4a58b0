/** action.yml matches the spec, and every shipped workflow uses only real inputs and outputs. */
import { describe, expect, it } from '@jest/globals'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', '..', '..')
const action = parse(readFileSync(join(root, 'action.yml'), 'utf8')) as {
  runs: Record<string, string>
  branding: Record<string, string>
  inputs: Record<string, { description?: string; default?: string }>
  outputs: Record<string, { description?: string }>
}

const SPEC_INPUTS: Record<string, string | undefined> = {
  targets: 'all',
  canary: undefined,
  'dry-run': 'auto',
  flake: '.',
  'ssh-private-key': undefined,
  'ssh-key-passphrase': undefined,
  'known-hosts': undefined,
  'ssh-keyscan': 'true',
  'ssh-user': undefined,
  'ssh-config': undefined,
  'deploy-rs': undefined,
  'deploy-args': undefined,
  'skip-checks': 'false',
  parallel: '4',
  'fail-fast': 'false',
  'host-timeout': '30',
  'keyscan-timeout': '10',
  'github-token': '${{ github.token }}',
  'pr-comment': 'auto',
  deployments: 'false',
  'health-check': 'auto',
  'health-timeout': '120',
  'plan-only': 'false'
}

describe('action.yml', () => {
  it('runs on node24 with a post step that always cleans up', () => {
    expect(action.runs).toEqual({
      using: 'node24',
      main: 'dist/index.js',
      post: 'dist/post/index.js',
      'post-if': 'always()'
    })
    expect(action.branding.icon).toBeTruthy()
    expect(action.branding.color).toBeTruthy()
  })

  it('has exactly the inputs of the spec, with its defaults and a description each', () => {
    expect(Object.keys(action.inputs).sort()).toEqual(Object.keys(SPEC_INPUTS).sort())
    for (const [name, input] of Object.entries(action.inputs)) {
      expect([name, input.default]).toEqual([name, SPEC_INPUTS[name]])
      expect(input.description?.length).toBeGreaterThan(10)
    }
  })

  it('has exactly the outputs of the spec, each described', () => {
    expect(Object.keys(action.outputs).sort()).toEqual(['failed', 'hosts', 'results', 'succeeded'])
    for (const output of Object.values(action.outputs))
      expect(output.description?.length).toBeGreaterThan(10)
  })
})

interface Step {
  uses?: string
  id?: string
  with?: Record<string, unknown>
}
interface Workflow {
  on: Record<string, unknown>
  permissions?: Record<string, string>
  jobs: Record<string, { steps: Step[]; outputs?: Record<string, string> }>
}

const examples = readdirSync(join(root, 'examples')).filter(file => file.endsWith('.yml'))

describe.each(examples)('examples/%s', file => {
  const text = readFileSync(join(root, 'examples', file), 'utf8')
  const workflow = parse(text) as Workflow
  const ours = Object.values(workflow.jobs).flatMap(job =>
    job.steps.filter(step => step.uses?.startsWith('deploy-rs-action/'))
  )

  it('is a workflow that uses this action with real inputs only', () => {
    expect(workflow.on).toBeTruthy()
    expect(ours.length).toBeGreaterThan(0)
    for (const step of ours) {
      for (const input of Object.keys(step.with ?? {}))
        expect(Object.keys(action.inputs)).toContain(input)
    }
  })

  it('reads only real outputs', () => {
    for (const match of text.matchAll(/steps\.[\w-]+\.outputs\.([\w-]+)/g)) {
      expect(Object.keys(action.outputs)).toContain(match[1])
    }
  })

  it('never puts the key anywhere but ssh-private-key, from a secret', () => {
    for (const step of ours) {
      const key = step.with?.['ssh-private-key']
      if (key !== undefined) expect(String(key)).toMatch(/^\$\{\{ secrets\.[A-Z_]+ \}\}$/)
    }
  })
})

describe('the three workflows of the spec', () => {
  const load = (file: string): Workflow =>
    parse(readFileSync(join(root, 'examples', file), 'utf8')) as Workflow
  it('push to main deploys all', () => {
    const workflow = load('deploy-on-push.yml')
    expect(workflow.on).toHaveProperty('push')
    const step = Object.values(workflow.jobs)[0].steps.find(s =>
      s.uses?.startsWith('deploy-rs-action/')
    )
    expect(step?.with?.targets).toBe('all')
  })
  it('workflow_dispatch offers the nodes plus all and a dry-run boolean', () => {
    const workflow = load('deploy-one-host.yml') as Workflow & {
      on: { workflow_dispatch: { inputs: Record<string, { type: string; options?: string[] }> } }
    }
    const inputs = workflow.on.workflow_dispatch.inputs
    expect(inputs.target.type).toBe('choice')
    expect(inputs.target.options).toContain('all')
    expect(inputs['dry-run'].type).toBe('boolean')
  })
  it('pull requests dry-run and may comment', () => {
    const workflow = load('pull-request-dry-run.yml')
    expect(workflow.on).toHaveProperty('pull_request')
    expect(workflow.permissions?.['pull-requests']).toBe('write')
    const step = Object.values(workflow.jobs)[0].steps.find(s =>
      s.uses?.startsWith('deploy-rs-action/')
    )
    expect(['auto', 'true', true]).toContain(step?.with?.['dry-run'])
  })
})
