/**
 * The measured-times table that some e2e files print at the end, so a run's
 * figures (for the closing notes) come from the tests that check the behaviour.
 */
export interface TimingTable {
  record(what: string, status: string, ms: number): void
  /** The rows as a Markdown table, headed by the first column's title. */
  print(): void
}

export function timingTable(firstColumn: string): TimingTable {
  const rows: string[] = []
  return {
    record(what, status, ms) {
      rows.push(`${what} | ${status} | ${(Math.round(ms / 10) / 100).toString()}`)
    },
    print() {
      console.log([`${firstColumn} | status | seconds`, '--- | --- | ---', ...rows].join('\n'))
    }
  }
}
