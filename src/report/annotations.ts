/**
 * One error annotation per node that did not succeed, so the failures show
 * on the run's page without opening the log.
 */
import * as core from '@actions/core'
import type { NodeResult } from '../model.js'
import { isSuccess } from '../model.js'
import { failureReason } from './format.js'
import { capChars, oneLine } from './markdown.js'

export type Annotate = (message: string, properties: { title: string }) => void

/** Long enough for any real error, short enough to read in the annotation list. */
const MESSAGE_MAX = 1000

/**
 * For each node that did not succeed: `annotate("failed at activate: <error>", { title: node })`.
 * Message and title are single lines (core escapes them for the workflow command).
 */
export function annotateFailures(
  results: readonly NodeResult[],
  annotate: Annotate = core.error
): void {
  for (const result of results) {
    if (isSuccess(result.status)) continue
    annotate(capChars(failureReason(result), MESSAGE_MAX), {
      title: capChars(oneLine(result.node), 200) || '(unnamed node)'
    })
  }
}
