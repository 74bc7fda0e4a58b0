/**
 * The job summary: Markdown for `core.summary.addRaw(...).write()`.
 *
 * GitHub drops a step summary larger than 1 MiB entirely, so the result is
 * kept under `maxBytes` whatever the input: rendered again with fewer log
 * lines per node, then without per-node detail, and as a last resort cut by
 * bytes with its open blocks closed. Every shortened form says so and says
 * where the full logs are.
 */
import type { NodeReport, RunContext } from '../model.js'
import { fitToLimit } from './fit.js'
import { byteLength, truncateBytes } from './markdown.js'
import { detailLevels, renderReport, whereFullLogs, type Variant } from './sections.js'

/** GitHub's limit is 1 MiB (1,048,576 bytes); the rest is a safety margin. */
export const SUMMARY_MAX_BYTES = 1_000_000
/** Log lines shown per node that did not succeed, before any trimming. */
export const SUMMARY_LOG_TAIL_LINES = 50

export interface SummaryOptions {
  /** Upper bound of the result's UTF-8 size. Default `SUMMARY_MAX_BYTES`. */
  maxBytes?: number
  /** Log lines per node that did not succeed. Default `SUMMARY_LOG_TAIL_LINES`. */
  logTailLines?: number
}

const VARIANT: Variant = {
  limitText: "GitHub's 1 MiB limit for a step summary",
  preamble: [],
  footer: null
}

export function renderSummary(
  ctx: RunContext,
  nodes: readonly NodeReport[],
  opts: SummaryOptions = {}
): string {
  const limit = opts.maxBytes ?? SUMMARY_MAX_BYTES
  const levels = detailLevels(Math.max(0, opts.logTailLines ?? SUMMARY_LOG_TAIL_LINES), [20, 5])
  const cutNotice = `> [!WARNING]\n> The rest of this summary was cut to stay under ${VARIANT.limitText}. Every node's result is in the \`results\` output; the full log of every node is ${whereFullLogs(ctx)}.`
  return fitToLimit({
    limit,
    measure: byteLength,
    truncate: truncateBytes,
    cutNotice,
    levels,
    render: level => renderReport(ctx, nodes, level, VARIANT)
  })
}
