/**
 * The tables `pnpm bench` prints (markdown, so they paste into the docs): timings with the
 * ratio to graphgrad, and the checks (loss at step 0, leaks, memory).
 * @module
 */
import { type BenchOutcome, type BenchResult, isFailure } from './result.ts'

function row(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`
}

function markdown(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [row(header), row(header.map(() => '---')), ...rows.map(row)].join('\n')
}

/**
 * How many times faster graphgrad is than `r`: the ratio of medians (`r`'s over graphgrad's),
 * `undefined` when graphgrad has no result for the workload.
 */
export function speedup(r: BenchResult, all: readonly BenchOutcome[]): number | undefined {
  const ours = all.find((o): o is BenchResult => !isFailure(o) && o.name === r.name && o.impl === 'graphgrad')
  return ours === undefined || !(ours.median_ms > 0) ? undefined : r.median_ms / ours.median_ms
}

/**
 * An implementation's column heading: its name, and for graphgrad the threads it ran on when
 * every measurement reported the same count (`graphgrad (2 threads)`).
 */
function implLabel(impl: string, outcomes: readonly BenchOutcome[]): string {
  const counts = new Set(outcomes.filter((o): o is BenchResult => !isFailure(o) && o.impl === impl && o.threads !== undefined).map((o) => o.threads))
  if (counts.size !== 1) return impl
  const [n] = counts
  return `${impl} (${n} thread${n === 1 ? '' : 's'})`
}

/** A ratio as the table shows it: two significant digits below 10, whole numbers above. */
export function formatRatio(x: number): string {
  return x >= 10 ? `${Math.round(x)}x` : `${Number(x.toPrecision(2))}x`
}

function rate(r: BenchResult): string {
  if (r.gflops !== undefined) return `${r.gflops} GFLOP/s`
  if (r.us_per_op !== undefined) return `${r.us_per_op} µs/op`
  return ''
}

/** The timing table: one row per measurement, with median/min/max (ms), runs, peak RSS, rate and the ratio. */
export function timingTable(outcomes: readonly BenchOutcome[]): string {
  const rows = outcomes.map((o) => {
    if (isFailure(o)) return [o.name, o.impl, `error: ${o.error.replace(/\|/g, '/')}`, '', '', '', '', '', '']
    const ratio = o.impl === 'graphgrad' ? '' : speedup(o, outcomes)
    return [
      o.name,
      o.impl,
      String(o.median_ms),
      String(o.min_ms),
      String(o.max_ms),
      `${o.runs} (+${o.warmup} warm-up)`,
      String(o.peak_rss_mb),
      rate(o),
      typeof ratio === 'number' ? formatRatio(ratio) : '',
    ]
  })
  return markdown(['workload', 'impl', 'median ms', 'min ms', 'max ms', 'runs', 'peak RSS MiB', 'rate', 'graphgrad is Nx faster'], rows)
}

function leak(r: BenchResult): string {
  const parts: string[] = []
  if (r.live_start !== undefined && r.live_end !== undefined) parts.push(`objects ${r.live_start} → ${r.live_end}`)
  if (r.heap_mb_start !== undefined && r.heap_mb_end !== undefined) parts.push(`heap ${r.heap_mb_start} → ${r.heap_mb_end} MiB`)
  return parts.join(', ')
}

function memory(r: BenchResult): string {
  const soak = Object.entries(r)
    .filter(([k]) => k.startsWith('heap_mb_at_'))
    .map(([k, v]) => `${v} MiB at step ${k.slice('heap_mb_at_'.length)}`)
  if (soak.length > 0) return soak.join(', ')
  if (r.step_heap_mb === undefined) return ''
  const where = r.peak_at === undefined ? '' : ` at ${r.peak_at}`
  const boundary = r.boundary_step_mb === undefined ? '' : `; +${r.boundary_step_mb} at the forward/backward boundary`
  return `step peak +${r.step_heap_mb} MiB live${where} (${r.peak_heap_mb} in all${boundary}) vs ${r.saved_activation_mb} MiB saved activations (${r.step_heap_vs_saved}x)`
}

/** The checks table: loss at the first and last run, live objects and heap before/after the counted runs, graphgrad's memory. */
export function checksTable(outcomes: readonly BenchOutcome[]): string {
  const rows = outcomes
    .filter((o): o is BenchResult => !isFailure(o))
    .map((r) => [
      r.name,
      r.impl,
      r.loss_first === undefined ? '' : r.loss_first.toFixed(6),
      r.loss_last === undefined ? '' : r.loss_last.toFixed(6),
      leak(r),
      memory(r),
    ])
  return markdown(['workload', 'impl', 'first loss', 'last loss', 'leak check (after warm-up → end)', 'memory'], rows)
}

/** A result's headline figure: GFLOP/s for matmul, µs/op for the chain, ms per run otherwise. */
function headline(r: BenchResult): string {
  if (r.gflops !== undefined) return `${r.gflops} GFLOP/s`
  if (r.us_per_op !== undefined) return `${r.us_per_op} µs/op`
  return `${r.median_ms} ms`
}

/**
 * The side-by-side summary (the docs' performance table): one row per workload, one column
 * per implementation, each cell the headline figure and, for a peer, how many times faster
 * graphgrad is (ratio of median times).
 */
export function summaryTable(outcomes: readonly BenchOutcome[]): string {
  const impls = [...new Set(outcomes.map((o) => o.impl))]
  const names = [...new Set(outcomes.map((o) => o.name))]
  const rows = names.map((name) => [
    name,
    ...impls.map((impl) => {
      const o = outcomes.find((x) => x.name === name && x.impl === impl)
      if (o === undefined) return ''
      if (isFailure(o)) return 'error'
      const ratio = impl === 'graphgrad' ? undefined : speedup(o, outcomes)
      return ratio === undefined ? headline(o) : `${headline(o)} (${formatRatio(ratio)})`
    }),
  ])
  return markdown(['workload', ...impls.map((i) => implLabel(i, outcomes))], rows)
}

/**
 * The graphgrad measurement a PyTorch one is set against: `torch-1thr` against graphgrad on
 * one thread (`graphgrad-1thr`) when that ran, every other against graphgrad on its default
 * thread count (every core: 2 on the machines the figures come from).
 */
function graphgradPeerOf(torch: string, impls: readonly string[]): string {
  return torch === 'torch-1thr' && impls.includes('graphgrad-1thr') ? 'graphgrad-1thr' : 'graphgrad'
}

/**
 * graphgrad against PyTorch (printed when a torch implementation ran): one row per workload,
 * first graphgrad's median time over PyTorch's for each PyTorch thread count (above 1:
 * graphgrad takes that many times as long; for matmul the inverse of the GFLOP/s ratio; see
 * `graphgradPeerOf` for which graphgrad each is set against), then the headline figures of
 * each graphgrad and each PyTorch. `undefined` when no PyTorch result is among `outcomes`.
 */
export function torchTable(outcomes: readonly BenchOutcome[]): string | undefined {
  const impls = [...new Set(outcomes.map((o) => o.impl))]
  const torches = impls.filter((i) => i.startsWith('torch-'))
  if (torches.length === 0) return undefined
  const ran = ['graphgrad-1thr', 'graphgrad'].filter((i) => impls.includes(i))
  const ours = ran.length === 0 ? ['graphgrad'] : ran
  const ok = (name: string, impl: string): BenchResult | undefined =>
    outcomes.find((o): o is BenchResult => !isFailure(o) && o.name === name && o.impl === impl)
  const names = [...new Set(outcomes.filter((o) => torches.includes(o.impl)).map((o) => o.name))]
  const rows = names.map((name) => {
    const figure = (r: BenchResult | undefined): string => (r === undefined ? 'error or not run' : headline(r))
    const ratio = (t: string): string => {
      const mine = ok(name, graphgradPeerOf(t, impls))
      const theirs = ok(name, t)
      return theirs === undefined || mine === undefined || !(theirs.median_ms > 0) ? '' : formatRatio(mine.median_ms / theirs.median_ms)
    }
    return [name, ...torches.map(ratio), ...ours.map((i) => figure(ok(name, i))), ...torches.map((t) => figure(ok(name, t)))]
  })
  const header = torches.map((t) => `${graphgradPeerOf(t, impls)} time / ${t} time`)
  return markdown(['workload', ...header, ...ours.map((i) => implLabel(i, outcomes)), ...torches], rows)
}
