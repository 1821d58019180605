/**
 * Times one runner in the current process: warm-up runs, then counted runs sized to a time
 * budget, the loss and live-object counts along the way, and graphgrad's memory figures.
 * @module
 */
import { savedActivationBytes } from './data.ts'
import { type MemoryProbe, type Runner, liveBytes } from './impl.ts'
import type { BenchResult } from './result.ts'
import { plannedRuns, round3, summarize } from './stats.ts'
import { type Workload, chainOps, matmulFlops } from './workloads.ts'

/** How long and how often to measure. */
export interface MeasureOptions {
  /** Counted runs (`--runs N`); otherwise as many as `budgetMs` allows, 3 to 30. */
  readonly runs?: number
  /** Time to spend on counted runs when `runs` is not given, in ms. */
  readonly budgetMs: number
}

const MIB = 1024 * 1024

/**
 * A first run longer than this is the only warm-up (tfjs-cpu's slowest steps); otherwise a
 * second one follows, after V8 has optimised and a jit has compiled, and sets the pace the
 * run count is planned from (a first run that includes compilation would undercount).
 */
const SLOW_RUN_MS = 10_000

/** Measures `runner` on `w` and returns its result line (without `impl`, which the caller knows). */
export async function measureRunner(w: Workload, impl: string, runner: Runner, options: MeasureOptions): Promise<BenchResult> {
  const time = async (): Promise<[number, number | undefined]> => {
    const t0 = performance.now()
    const loss = await runner.run()
    const wall = performance.now() - t0
    return [runner.lastRunMs?.() ?? wall, loss]
  }
  const [firstMs, lossFirst] = await time()
  let warmup = 1
  let paceMs = firstMs
  if (firstMs < SLOW_RUN_MS) {
    ;[paceMs] = await time()
    warmup = 2
  }
  const liveStart = await runner.live?.()
  // A library in a process of its own (PyTorch) reports its own RSS; this process's heap says nothing about it.
  const external = runner.peakRssMb !== undefined
  const heapStart = external ? undefined : await liveBytes()
  const runs = plannedRuns(paceMs, options.budgetMs, options.runs)
  const samples: number[] = []
  let lossLast = lossFirst
  for (let i = 0; i < runs; i++) {
    const [ms, loss] = await time()
    samples.push(ms)
    lossLast = loss
  }
  const liveEnd = await runner.live?.()
  const heapEnd = external ? undefined : await liveBytes()
  const stats = summarize(samples)
  const extra: Record<string, number> = {}
  if (runner.threads !== undefined) extra.threads = runner.threads()
  if (w.kind === 'matmul') extra.gflops = round3(matmulFlops(w.n) / stats.median_ms / 1e6)
  if (w.kind === 'chain') extra.us_per_op = round3((stats.median_ms * 1000) / chainOps(w))
  if (lossFirst !== undefined) extra.loss_first = lossFirst
  if (lossLast !== undefined) extra.loss_last = lossLast
  if (liveStart !== undefined && liveEnd !== undefined) Object.assign(extra, { live_start: liveStart, live_end: liveEnd })
  if (heapStart !== undefined && heapEnd !== undefined) Object.assign(extra, { heap_mb_start: round3(heapStart / MIB), heap_mb_end: round3(heapEnd / MIB) })
  let peakAt: { peak_at: string } | undefined
  if (runner.memoryProbe !== undefined && (w.kind === 'train' || w.kind === 'forward')) {
    const probe = await runner.memoryProbe()
    const figures = memoryFigures(probe, savedActivationBytes(w.cell, w.shape))
    Object.assign(extra, figures.numbers)
    peakAt = { peak_at: figures.at }
  }
  return {
    name: w.name,
    impl,
    ...stats,
    warmup,
    first_ms: round3(firstMs),
    peak_rss_mb: runner.peakRssMb === undefined ? peakRssMb() : round3(await runner.peakRssMb()),
    ...extra,
    ...peakAt,
  }
}

/**
 * The result's memory fields from one probed step: the peak over the step-start baseline
 * (the highest of the forward/backward boundary, every probe reading and the end of the
 * backward pass) against the saved-activation bytes, and the boundary figure alone.
 */
export function memoryFigures(probe: MemoryProbe, savedBytes: number): { numbers: Record<string, number>; at: string } {
  const candidates: [number, string][] = [
    [probe.afterForwardBytes, 'forward/backward boundary'],
    [probe.probedPeak.bytes, probe.probedPeak.at],
    [probe.afterBackwardBytes, 'end of backward'],
  ]
  const [peak, at] = candidates.reduce((a, b) => (b[0] > a[0] ? b : a))
  const step = peak - probe.beforeBytes
  return {
    numbers: {
      peak_heap_mb: round3(peak / MIB),
      step_heap_mb: round3(step / MIB),
      boundary_step_mb: round3((probe.afterForwardBytes - probe.beforeBytes) / MIB),
      saved_activation_mb: round3(savedBytes / MIB),
      step_heap_vs_saved: round3(step / savedBytes),
      probed_nodes: probe.probedPeak.nodes,
      probed_inside: probe.probedPeak.inside,
    },
    at,
  }
}

/** This process's peak resident set size so far, in MiB. */
export function peakRssMb(): number {
  return round3(process.resourceUsage().maxRSS / 1024)
}
