/**
 * What `pnpm seq2seq` prints at the end: the table (model, parameters, training sequences,
 * held-out exact match greedy and with beam search, seconds) and a few held-out mistakes.
 * @module
 */
import type { ModelRun, Results } from './experiment.ts'

const percent = (x: number): string => `${(100 * x).toFixed(1)}%`

/** The table as aligned text lines: a header, a rule, a row per model. */
export function formatTable(runs: readonly ModelRun[]): string[] {
  const width = runs[0]?.heldOut.width ?? 1
  const header = ['model', 'params', 'train seqs', 'epochs', 'greedy', `beam ${width}`, 'seconds']
  const rows = runs.map((r) => [
    r.model,
    String(r.parameters),
    String(r.trainingSequences),
    String(r.epochs),
    percent(r.heldOut.greedy),
    percent(r.heldOut.beam),
    r.seconds.toFixed(1),
  ])
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)))
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
      .join('  ')
      .trimEnd()
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)]
}

/** The lines after the table: the held-out set, what beam search changed, a few mistakes per model. */
export function summaryLines(results: Results): string[] {
  const s = results.settings
  const lines = [`held-out exact match on ${s.heldOut} dates none of the ${s.train} training dates has (greedy, and beam search of width ${s.beam})`, '']
  for (const r of results.runs) {
    const h = r.heldOut
    lines.push(`${r.model}: ${r.describe}; ${r.steps} steps, last epoch's training loss ${r.epochLosses[r.epochLosses.length - 1]?.toFixed(4) ?? '?'}`)
    lines.push(`  beam search changed ${h.changed} greedy answer(s) and kept the greedy one ${h.greedyKept} time(s) where it scored higher`)
    for (const m of h.mistakes.slice(0, 3)) lines.push(`  wrong: "${m.source}" -> ${m.greedy} (beam ${m.beam}), target ${m.target}`)
  }
  return lines
}
