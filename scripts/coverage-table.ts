/**
 * `pnpm test:coverage`'s summary: reads the per-file coverage that Vitest wrote
 * (coverage/coverage-summary.json, the `json-summary` reporter) and prints one row per
 * package, lines, statements, functions and branches covered. Generated kernel files count
 * like any other source: they are code the packages ship.
 * @module
 */
import { readFileSync } from 'node:fs'
import { relative } from 'node:path'

/** Covered and total counts of one metric. */
interface Metric {
  readonly total: number
  readonly covered: number
}

type FileSummary = Record<'lines' | 'statements' | 'functions' | 'branches', Metric>

const METRICS = ['lines', 'statements', 'functions', 'branches'] as const
const root = new URL('../', import.meta.url).pathname
const summary = JSON.parse(readFileSync(new URL('../coverage/coverage-summary.json', import.meta.url), 'utf8')) as Record<string, FileSummary>

const perPackage = new Map<string, Record<(typeof METRICS)[number], { total: number; covered: number }>>()
for (const [file, counts] of Object.entries(summary)) {
  if (file === 'total') continue
  const pkg = /^packages\/([^/]+)\//.exec(relative(root, file))?.[1]
  if (pkg === undefined) continue
  const row =
    perPackage.get(pkg) ??
    (Object.fromEntries(METRICS.map((m) => [m, { total: 0, covered: 0 }])) as Record<(typeof METRICS)[number], { total: number; covered: number }>)
  for (const m of METRICS) {
    row[m].total += counts[m].total
    row[m].covered += counts[m].covered
  }
  perPackage.set(pkg, row)
}

const pct = (m: Metric): string => (m.total === 0 ? '-' : `${((100 * m.covered) / m.total).toFixed(1)}%`)
const lines = ['| package | lines | statements | functions | branches |', '|---|---|---|---|---|']
for (const [pkg, row] of [...perPackage].sort(([a], [b]) => a.localeCompare(b))) {
  lines.push(`| @graphgrad/${pkg} | ${METRICS.map((m) => `${pct(row[m])} of ${row[m].total}`).join(' | ')} |`)
}
console.log(lines.join('\n'))
