/**
 * Timing helpers shared by the benchmark groups, and the shape of what a group reports.
 * @module
 */

/** One benchmark result: printed as one JSON line (`bench` names the group). */
export interface BenchResult {
  /** The group, e.g. `matmul`. */
  readonly bench: string
  /** Whose implementation ran: `graphgrad` or `tfjs-cpu`. */
  readonly lib: string
  /** The group's own fields (size, dtype, rates). */
  readonly [field: string]: string | number
}

/** A group of benchmarks: `main.ts` runs it when selected and prints what it yields. */
export interface BenchGroup {
  /** Name used by `--only` and in the `bench` field. */
  readonly name: string
  /** Runs the benchmarks, yielding results as they finish. */
  run(): AsyncIterable<BenchResult>
}

/** How long and how often to repeat a measurement. */
export interface TimingOptions {
  /** Untimed calls first, so V8 has optimised the code (default 2). */
  warmup?: number
  /** At least this many timed runs (default 5). */
  minRuns?: number
  /** At most this many timed runs (default 50). */
  maxRuns?: number
  /** Keep running (up to maxRuns) until this much time is spent (ms, default 500). */
  minTimeMs?: number
}

/** Medians of one call's wall time and of the process's CPU time over the same call, in ms. */
export interface Timing {
  /** Median wall-clock time. */
  readonly ms: number
  /** Median CPU time (user + system): close to `ms` on an idle machine, steadier on a busy one. */
  readonly cpuMs: number
}

function median(xs: number[]): number {
  xs.sort((a, b) => a - b)
  const mid = xs.length >> 1
  return xs.length % 2 === 1 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2
}

/** Times calls of `fn` after a warm-up; see {@link TimingOptions} for how many. */
export function measure(fn: () => void, options: TimingOptions = {}): Timing {
  const { warmup = 2, minRuns = 5, maxRuns = 50, minTimeMs = 500 } = options
  for (let i = 0; i < warmup; i++) fn()
  const wall: number[] = []
  const cpu: number[] = []
  let total = 0
  while (wall.length < minRuns || (total < minTimeMs && wall.length < maxRuns)) {
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    fn()
    const dt = performance.now() - t0
    const c = process.cpuUsage(c0)
    wall.push(dt)
    cpu.push((c.user + c.system) / 1000)
    total += dt
  }
  return { ms: median(wall), cpuMs: median(cpu) }
}

/** Median wall time of one call of `fn`, in milliseconds, after a warm-up. */
export function medianMs(fn: () => void, options: TimingOptions = {}): number {
  return measure(fn, options).ms
}

/** Rounds to 3 significant digits, for readable JSON. */
export function round3(x: number): number {
  return Number(x.toPrecision(3))
}
