/**
 * What the sweep shows when it ends: the table, an ASCII chart of the first seed's learning
 * curves at the lag where the models differ most clearly, and the data of the SVG figures.
 * @module
 */
import { type ChartSeries, asciiChart } from './chart.ts'
import type { RunRecord, SweepResults } from './results.ts'
import { solveSvg } from './solve-svg.ts'
import { type SvgPanel, learningCurvesSvg } from './svg.ts'
import { formatTable } from './table.ts'

/** A moving average over `window` points, so that noisy per-batch losses read as a curve. */
function smooth(points: readonly (readonly [number, number])[], window = 5): [number, number][] {
  return points.map(([x], i) => {
    const from = Math.max(0, i - window + 1)
    const slice = points.slice(from, i + 1)
    return [x, slice.reduce((s, [, y]) => s + y, 0) / slice.length]
  })
}

function lossPoints(run: RunRecord): [number, number][] {
  return smooth(run.curve.map((p) => [p.sequences, p.loss] as const))
}

/** The runs of the first seed: the learning curves show one run per model. */
const firstSeed = (runs: readonly RunRecord[]): RunRecord[] => runs.filter((r) => r.seed === 0 && r.notRunAfter === null)

/**
 * The lag of a task to chart: the longest at which the LSTM solved the task and the RNN did
 * not (the essay's claim), else the longest at which some model solved it and some did not,
 * else the longest lag (null for a task without lags). Judged on the first seed.
 */
export function contrastLag(runs: readonly RunRecord[], task: string): number | null {
  const mine = firstSeed(runs).filter((r) => r.task === task)
  const lags = [...new Set(mine.map((r) => r.lag))].sort((a, b) => (b ?? 0) - (a ?? 0))
  const at = (lag: number | null): RunRecord[] => mine.filter((r) => r.lag === lag)
  const solved = (r: RunRecord): boolean => r.solvedAt !== null
  const claim = lags.find((lag) => at(lag).some((r) => r.model === 'lstm' && solved(r)) && at(lag).some((r) => r.model === 'rnn' && !solved(r)))
  const split = lags.find((lag) => at(lag).some(solved) && at(lag).some((r) => !solved(r)))
  return claim ?? split ?? lags[0]
}

/** The ASCII charts, one per task, at its {@link contrastLag}. */
function asciiCharts(results: SweepResults): string[] {
  const runs = firstSeed(results.runs)
  return [...new Set(runs.map((r) => r.task))].flatMap((task) => {
    const lag = contrastLag(runs, task)
    const at = runs.filter((r) => r.task === task && r.lag === lag)
    const series: ChartSeries[] = at.map((r) => ({ name: r.model, points: lossPoints(r) }))
    const title = `${task}${lag === null ? '' : `, lag ${lag}`}: training loss of the first seed, moving average (every lag is in curves.svg)`
    const chance = at[0].chanceLoss
    return [...asciiChart(title, series, { reference: chance, yMax: 1.25 * chance, xLabel: 'sequences' }), '']
  })
}

/** The SVG figure of the first seed's learning curves. */
export function curvesSvg(results: SweepResults): string {
  const panels: SvgPanel[] = []
  const runs = firstSeed(results.runs)
  for (const task of results.settings.tasks) {
    for (const lag of [null, ...results.settings.lags]) {
      const at = runs.filter((r) => r.task === task && r.lag === lag)
      if (at.length === 0) continue
      panels.push({
        row: task,
        title: `${task}${lag === null ? '' : `, lag ${lag}`}`,
        chanceLoss: at[0].chanceLoss,
        curves: at.map((r) => ({ model: r.model, points: lossPoints(r) })),
      })
    }
  }
  const s = results.settings
  return learningCurvesSvg(`Training loss (moving average), first seed: equal budgets (LSTM hidden ${s.hidden}), seed ${s.seed}`, panels)
}

/** The solve plot of every run. */
export function solvePlot(results: SweepResults): string {
  const s = results.settings
  return solveSvg(
    `Training sequences to solve (median of ${s.seeds} seeds): equal budgets (LSTM hidden ${s.hidden}), forget-gate bias ${s.gateBias}, input-gate bias ${s.inputBias}`,
    results.runs,
    s.budget,
  )
}

/** The table followed by the charts, as printed at the end of a sweep. */
export function summaryLines(results: SweepResults): string[] {
  return [...formatTable(results.runs, results.settings.budget), '', ...asciiCharts(results)]
}
