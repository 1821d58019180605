/**
 * What the sweep shows when it ends: the table, an ASCII chart of the learning curves at
 * the lag where the models differ most clearly, and the data of the SVG figure.
 * @module
 */
import { type ChartSeries, asciiChart } from './chart.ts'
import type { RunRecord, SweepResults } from './results.ts'
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
  return smooth(run.curve.map((p) => [p.step, p.loss] as const))
}

/**
 * The lag of a task to chart: the longest at which the LSTM learned the task and the RNN did
 * not (the essay's claim), else the longest at which some model learned it and some did not,
 * else the longest lag.
 */
export function contrastLag(runs: readonly RunRecord[], task: string): number {
  const mine = runs.filter((r) => r.task === task)
  const lags = [...new Set(mine.map((r) => r.lag))].sort((a, b) => b - a)
  const at = (lag: number): RunRecord[] => mine.filter((r) => r.lag === lag)
  const claim = lags.find((lag) => at(lag).some((r) => r.model === 'lstm' && r.solved) && at(lag).some((r) => r.model === 'rnn' && !r.solved))
  const split = lags.find((lag) => at(lag).some((r) => r.solved) && at(lag).some((r) => !r.solved))
  return claim ?? split ?? lags[0]
}

/** The ASCII charts, one per task, at its {@link contrastLag}. */
function asciiCharts(results: SweepResults): string[] {
  return [...new Set(results.runs.map((r) => r.task))].flatMap((task) => {
    const lag = contrastLag(results.runs, task)
    const at = results.runs.filter((r) => r.task === task && r.lag === lag)
    const series: ChartSeries[] = at.map((r) => ({ name: r.model, points: lossPoints(r) }))
    const title = `${task}, lag ${lag}: training loss, moving average (every lag is in curves.svg)`
    const chance = at[0].chanceLoss
    return [...asciiChart(title, series, { reference: chance, yMax: 1.25 * chance }), '']
  })
}

/** The SVG figure of every run's learning curve. */
export function curvesSvg(results: SweepResults): string {
  const panels: SvgPanel[] = []
  for (const task of results.settings.tasks) {
    for (const lag of results.settings.lags) {
      const at = results.runs.filter((r) => r.task === task && r.lag === lag)
      if (at.length === 0) continue
      panels.push({
        row: task,
        title: `${task}, lag ${lag}`,
        chanceLoss: at[0].chanceLoss,
        curves: at.map((r) => ({ model: r.model, points: lossPoints(r) })),
      })
    }
  }
  const s = results.settings
  return learningCurvesSvg(`Training loss (moving average): equal budgets (LSTM hidden ${s.hidden}), ${s.steps} Adam steps, seed ${s.seed}`, panels)
}

/** The table followed by the charts, as printed at the end of a sweep. */
export function summaryLines(results: SweepResults): string[] {
  return [...formatTable(results.runs), '', ...asciiCharts(results)]
}
