/**
 * The one JSON object each (workload, implementation) measurement produces: printed one per
 * line by `pnpm bench --json`, passed from child to parent process, and read by the table.
 * @module
 */
import type { RunStats } from './stats.ts'

/** A finished measurement: the timing statistics and what else the workload reports. */
export interface BenchResult extends RunStats {
  /** The workload, e.g. `lstm_train_step_h256`. */
  readonly name: string
  /** The implementation: `graphgrad`, `tfjs-cpu`, `tfjs-wasm`, `jax-js`, `torch-1thr` or `torch-2thr`. */
  readonly impl: string
  /** Uncounted runs before the counted ones (the first includes jit compilation where there is one). */
  readonly warmup: number
  /** Wall time of the first warm-up run, in ms. */
  readonly first_ms: number
  /** The peak resident set size of the process that ran the library, in MiB (fresh process per measurement; PyTorch's own Python process for torch-*). */
  readonly peak_rss_mb: number
  /** The threads the library ran on, where it says (graphgrad's `numThreads()`). */
  readonly threads?: number
  /** GFLOP/s at the median time (matmul workloads). */
  readonly gflops?: number
  /** µs per recorded op at the median time (the op chain). */
  readonly us_per_op?: number
  /** Loss of the first run and of the last (model workloads): equal across implementations at step 0. */
  readonly loss_first?: number
  /** Loss after the last counted run. */
  readonly loss_last?: number
  /** Live library objects (tfjs tensors, jax-js buffers, PyTorch tensors) after the warm-up. */
  readonly live_start?: number
  /** The same after the last counted run: equal to `live_start` when nothing leaks. */
  readonly live_end?: number
  /** Live MiB (V8 heap + ArrayBuffers, after gc) after the warm-up: the leak check's start for every implementation in Node (not PyTorch's, in Python). */
  readonly heap_mb_start?: number
  /** The same after the last counted run. */
  readonly heap_mb_end?: number
  /**
   * graphgrad training steps: the highest live MiB (heap + ArrayBuffers, after gc) of one probed
   * step: at the forward/backward boundary, after every node's VJP, at every chunk of steps of
   * the recurrent scan (forward and backward), or at the end of the backward pass.
   */
  readonly peak_heap_mb?: number
  /** Where that peak was read: `forward/backward boundary`, an op's name, `recurrent scan forward|backward (inside)` or `end of backward`. */
  readonly peak_at?: string
  /** graphgrad training steps: that peak minus the live MiB before the step. */
  readonly step_heap_mb?: number
  /** graphgrad training steps: the live MiB added by the forward pass alone (the boundary reading minus the step's start). */
  readonly boundary_step_mb?: number
  /** Bytes the step's saved activations need, from the shapes (see `savedActivationBytes`), in MiB. */
  readonly saved_activation_mb?: number
  /** `step_heap_mb` over `saved_activation_mb`: the issue asks for under 2. */
  readonly step_heap_vs_saved?: number
  /** Readings the probe took after a node's VJP (the backward pass's node count). */
  readonly probed_nodes?: number
  /** Readings the probe took inside a fused op's loop (chunks of steps of the recurrent scan, forward and backward). */
  readonly probed_inside?: number
  /** The memory soak: live MiB after gc at each checkpoint step, keyed `heap_mb_at_<step>`. */
  readonly [checkpoint: `heap_mb_at_${number}`]: number
}

/** A measurement that could not run: the table shows the error instead of numbers. */
export interface BenchFailure {
  /** The workload. */
  readonly name: string
  /** The implementation. */
  readonly impl: string
  /** What went wrong, one line. */
  readonly error: string
}

/** Either outcome of one measurement. */
export type BenchOutcome = BenchResult | BenchFailure

/** Whether an outcome is a failure. */
export function isFailure(o: BenchOutcome): o is BenchFailure {
  return 'error' in o
}

/** The prefix the child puts before its JSON line, so library chatter on stdout is never mistaken for it. */
export const RESULT_MARK = '@@bench-result '

/** The outcome in a child's stdout (the last marked line); throws when there is none or it is not an outcome. */
export function parseChildOutput(stdout: string): BenchOutcome {
  const line = stdout
    .split('\n')
    .reverse()
    .find((l) => l.startsWith(RESULT_MARK))
  if (line === undefined) throw new Error('the child printed no result line')
  const value: unknown = JSON.parse(line.slice(RESULT_MARK.length))
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof (value as { name?: unknown }).name !== 'string' ||
    typeof (value as { impl?: unknown }).impl !== 'string'
  ) {
    throw new Error(`the child's result line is not a result: ${line.slice(0, 200)}`)
  }
  return value as BenchOutcome
}
