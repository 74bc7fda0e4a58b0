/**
 * `npm run screenshots`: the report as a user sees it. Runs the demo flows
 * (scripts/demo.ts: the 8-node mixed deploy, the same fleet with a canary
 * that stops the rollout, and the mixed pull-request dry run) on the sandbox fleet with the bundled action, renders the job
 * summaries and the PR comment to HTML with `marked` (GFM) in a page styled
 * like GitHub's light theme, and takes screenshots with headless Chromium:
 *
 *   docs/summary-deploy.png    job summary of the mixed deploy (one node unhealthy)
 *   docs/summary-canary.png    job summary when the canary stopped the rollout
 *   docs/summary-dry-run.png   job summary of the pull-request dry run
 *   docs/pr-comment.png        the PR comment of that dry run
 *
 * The pages are kept beside them (docs/*.html). `<details>` sections are
 * opened in the page only, so the failure excerpts show. Needs `chromium`
 * (Debian: `apt-get install -y chromium`; `fonts-noto-color-emoji` for the
 * status symbols) and what `npm run demo` needs (`npm run setup`).
 *
 *   npx tsx scripts/screenshots.ts [--out DIR]
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { marked } from 'marked'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const outIndex = args.indexOf('--out')
const OUT = resolve(outIndex === -1 ? join(ROOT, 'docs') : args[outIndex + 1])
const WIDTH = 1100
const MAX_HEIGHT = 12_000

export interface Shot {
  /** File name without extension, in OUT. */
  name: string
  title: string
  markdown: string
  /** How the page frames the Markdown. */
  frame: 'summary' | 'comment'
}

/** Runs a command; rejects on a non-zero exit or after `timeoutMs`. Resolves to its output. */
function run(command: string, argv: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    const output: Buffer[] = []
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const text = Buffer.concat(output).toString('utf8')
      if (code === 0) resolveRun(text)
      else {
        const tail = text.split('\n').slice(-40).join('\n')
        reject(
          new Error(
            `${command} ${argv.join(' ')} ended with ${signal ?? `exit code ${code}`}:\n${tail}`
          )
        )
      }
    })
  })
}

/** Runs scripts/demo.ts with `--keep-summary DIR` and returns DIR. */
async function demo(work: string, name: string, flags: string[]): Promise<string> {
  const dir = join(work, name)
  const tsx = join(ROOT, 'node_modules', '.bin', 'tsx')
  const output = await run(
    tsx,
    [join(ROOT, 'scripts', 'demo.ts'), ...flags, '--keep-summary', dir],
    300_000
  )
  // The demo prints the whole job log; its last line says how the run ended.
  console.log(`demo ${flags.join(' ')}: ${output.trimEnd().split('\n').at(-1)}`)
  return dir
}

const ALERT_TITLES: Record<string, string> = {
  NOTE: 'Note',
  TIP: 'Tip',
  IMPORTANT: 'Important',
  WARNING: 'Warning',
  CAUTION: 'Caution'
}

/**
 * GFM → HTML as GitHub shows it: alerts (`> [!CAUTION]`) as alert boxes,
 * which `marked` leaves as blockquotes; `<details>` opened for the picture.
 */
export function renderMarkdown(markdown: string): string {
  const html = marked.parse(markdown, { gfm: true, async: false })
  return html
    .replace(
      /<blockquote>\s*<p>\[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]\s*([\s\S]*?)<\/blockquote>/g,
      (_all, kind: string, rest: string) =>
        `<div class="markdown-alert markdown-alert-${kind.toLowerCase()}"><p class="markdown-alert-title">${ALERT_TITLES[kind]}</p><p>${rest}</div>`
    )
    .replace(/<details>/g, '<details open>')
}

const CSS = `
  * { box-sizing: border-box; }
  body { margin: 0; padding: 24px; background: #f6f8fa; color: #1f2328;
    font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif, "Apple Color Emoji", "Segoe UI Emoji", "Noto Color Emoji";
    font-size: 14px; line-height: 1.5; }
  .frame { background: #fff; border: 1px solid #d1d9e0; border-radius: 6px; margin: 0 auto; }
  .frame.summary { max-width: 1050px; }
  /* A PR comment sits in the conversation column, next to the avatar and the sidebar. */
  .frame.comment { max-width: 880px; }
  .frame-header { padding: 8px 16px; border-bottom: 1px solid #d1d9e0; background: #f6f8fa;
    border-radius: 6px 6px 0 0; color: #59636e; }
  .frame-header strong { color: #1f2328; }
  .markdown-body { padding: 16px 24px 24px; font-size: 14px; word-wrap: break-word; }
  .markdown-body > *:first-child { margin-top: 0 !important; }
  .markdown-body h2 { font-size: 1.5em; font-weight: 600; line-height: 1.25; margin: 24px 0 16px;
    padding-bottom: .3em; border-bottom: 1px solid #d1d9e0b3; }
  .markdown-body h3 { font-size: 1.25em; font-weight: 600; line-height: 1.25; margin: 24px 0 16px; }
  .markdown-body p, .markdown-body ul, .markdown-body table, .markdown-body pre,
  .markdown-body details, .markdown-body blockquote, .markdown-body .markdown-alert { margin: 0 0 16px; }
  .markdown-body ul { padding-left: 2em; }
  .markdown-body ul ul { margin: 0; }
  .markdown-body li + li, .markdown-body li > ul { margin-top: .25em; }
  .markdown-body a { color: #0969da; text-decoration: none; }
  .markdown-body code, .markdown-body pre { font-family: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace, "Noto Color Emoji"; }
  .markdown-body code { padding: .2em .4em; font-size: 85%; white-space: break-spaces;
    background: #818b981f; border-radius: 6px; }
  .markdown-body pre { padding: 16px; overflow: auto; font-size: 85%; line-height: 1.45;
    background: #f6f8fa; border-radius: 6px; white-space: pre; word-wrap: normal; }
  /* GitHub: a table is as wide as its content, at most the column, then it scrolls. */
  .markdown-body table { display: block; width: max-content; max-width: 100%; overflow: auto;
    border-spacing: 0; border-collapse: collapse; font-variant: tabular-nums; }
  .markdown-body th { font-weight: 600; }
  .markdown-body th, .markdown-body td { padding: 6px 13px; border: 1px solid #d1d9e0; }
  .markdown-body tr { background: #fff; border-top: 1px solid #d1d9e0b3; }
  .markdown-body tr:nth-child(2n) { background: #f6f8fa; }
  .markdown-body blockquote { padding: 0 1em; color: #59636e; border-left: .25em solid #d1d9e0; }
  .markdown-body details summary { cursor: pointer; }
  .markdown-body details > summary + * { margin-top: 8px; }
  .markdown-body sub { font-size: 75%; color: #59636e; }
  .markdown-alert { padding: .5rem 1rem; border-left: .25em solid #d1d9e0; color: inherit; }
  .markdown-alert > :last-child { margin-bottom: 0; }
  .markdown-alert-title { display: flex; font-weight: 500; margin-bottom: 4px !important; }
  .markdown-alert-note { border-left-color: #0969da; } .markdown-alert-note .markdown-alert-title { color: #0969da; }
  .markdown-alert-tip { border-left-color: #1a7f37; } .markdown-alert-tip .markdown-alert-title { color: #1a7f37; }
  .markdown-alert-important { border-left-color: #8250df; } .markdown-alert-important .markdown-alert-title { color: #8250df; }
  .markdown-alert-warning { border-left-color: #9a6700; } .markdown-alert-warning .markdown-alert-title { color: #9a6700; }
  .markdown-alert-caution { border-left-color: #d1242f; } .markdown-alert-caution .markdown-alert-title { color: #d1242f; }
`

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

export function page(shot: Shot): string {
  const header =
    shot.frame === 'comment'
      ? '<strong>github-actions</strong> <span>bot</span> commented'
      : '<strong>deploy</strong> summary'
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(shot.title)}</title>
<style>${CSS}</style>
</head>
<body>
<div class="frame ${shot.frame}">
<div class="frame-header">${header}</div>
<div class="markdown-body">
${renderMarkdown(shot.markdown)}
</div>
</div>
<script>
  // Read by --dump-dom: how tall the screenshot must be.
  addEventListener('load', () => {
    document.body.dataset.height = String(Math.ceil(document.documentElement.scrollHeight))
  })
</script>
</body>
</html>
`
}

const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--hide-scrollbars'
]

/** Runs Chromium once with a profile directory of its own; returns its stdout. */
async function chromium(extra: string[], pageUrl: string): Promise<string> {
  const profile = await mkdtemp(join(tmpdir(), 'screenshots-chromium-'))
  try {
    return await new Promise<string>((resolveRun, reject) => {
      const child = spawn(
        'chromium',
        [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, ...extra, pageUrl],
        {
          stdio: ['ignore', 'pipe', 'pipe']
        }
      )
      const out: Buffer[] = []
      const err: Buffer[] = []
      child.stdout.on('data', (chunk: Buffer) => out.push(chunk))
      child.stderr.on('data', (chunk: Buffer) => err.push(chunk))
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
      child.on('error', reject)
      child.on('close', code => {
        clearTimeout(timer)
        if (code === 0) resolveRun(Buffer.concat(out).toString('utf8'))
        else
          reject(
            new Error(
              `chromium exited with ${code}: ${Buffer.concat(err).toString('utf8').slice(-2000)}`
            )
          )
      })
    })
  } finally {
    await rm(profile, { recursive: true, force: true })
  }
}

export async function screenshot(htmlFile: string, pngFile: string): Promise<number> {
  const url = pathToFileURL(htmlFile).href
  const dom = await chromium(
    [`--window-size=${WIDTH},800`, '--virtual-time-budget=3000', '--dump-dom'],
    url
  )
  const measured = Number(/data-height="(\d+)"/.exec(dom)?.[1] ?? NaN)
  if (!Number.isFinite(measured)) throw new Error(`could not measure the height of ${htmlFile}`)
  const height = Math.min(MAX_HEIGHT, measured)
  await chromium([`--window-size=${WIDTH},${height}`, `--screenshot=${pngFile}`], url)
  return height
}

async function main(): Promise<void> {
  if (spawnSync('chromium', ['--version'], { stdio: 'ignore' }).status !== 0) {
    throw new Error(
      'chromium is not installed (Debian: apt-get install -y chromium fonts-noto-color-emoji)'
    )
  }
  const work = await mkdtemp(join(tmpdir(), 'screenshots-'))
  try {
    const deploy = await demo(work, 'deploy', ['--mixed'])
    const canary = await demo(work, 'canary', ['--canary'])
    const pr = await demo(work, 'pr', ['--mixed', '--pr'])
    const shots: Shot[] = [
      {
        name: 'summary-deploy',
        title: 'Job summary: 8-node deploy',
        markdown: await readFile(join(deploy, 'summary.md'), 'utf8'),
        frame: 'summary'
      },
      {
        name: 'summary-canary',
        title: 'Job summary: the canary stopped the rollout',
        markdown: await readFile(join(canary, 'summary.md'), 'utf8'),
        frame: 'summary'
      },
      {
        name: 'summary-dry-run',
        title: 'Job summary: pull request dry run',
        markdown: await readFile(join(pr, 'summary.md'), 'utf8'),
        frame: 'summary'
      },
      {
        name: 'pr-comment',
        title: 'PR comment: dry run',
        markdown: await readFile(join(pr, 'comment.md'), 'utf8'),
        frame: 'comment'
      }
    ]
    await mkdir(OUT, { recursive: true })
    for (const shot of shots) {
      const html = join(OUT, `${shot.name}.html`)
      const png = join(OUT, `${shot.name}.png`)
      await writeFile(html, page(shot))
      const height = await screenshot(html, png)
      const bytes = Buffer.byteLength(shot.markdown)
      console.log(
        `${png}: ${WIDTH}×${height} px (Markdown ${bytes} bytes, ${shot.markdown.length} characters)`
      )
    }
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

// Run when started as a script; importing the module (e.g. to render one page) runs nothing.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main()
