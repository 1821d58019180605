/**
 * What an implementation provides for one workload: a runner the child process times.
 * @module
 */
import type { PeakReading } from './peak.ts'
import type { Workload } from './workloads.ts'

/** Live bytes (V8 heap plus typed-array buffers, after gc) around and inside one graphgrad training step. */
export interface MemoryProbe {
  /** Before the step: parameters, optimizer state, data. */
  readonly beforeBytes: number
  /** After the forward pass, with everything the backward pass needs kept. */
  readonly afterForwardBytes: number
  /** After the backward pass, gradients live, activations released. */
  readonly afterBackwardBytes: number
  /** The highest reading inside the step: after every node's VJP and at every chunk of steps of the recurrent scan (forward and backward). */
  readonly probedPeak: PeakReading
}

/** One workload set up in one implementation. */
export interface Runner {
  /** One counted unit (a training step, a forward pass, a matmul, a chain); returns the loss where there is one. */
  run(): number | undefined | Promise<number | undefined>
  /** Objects the library keeps alive (tfjs tensors, jax-js buffers, PyTorch tensors): flat across runs when nothing leaks. */
  live?(): number | undefined | Promise<number | undefined>
  /**
   * An implementation that runs in a process of its own (PyTorch): the last run's time as that
   * process measured it, in ms, which the child counts instead of its own wall time around
   * `run` (that would add the round trip over the pipe).
   */
  lastRunMs?(): number | undefined
  /**
   * The same: that process's peak resident set size in MiB, reported instead of the child's
   * own (and the child's heap readings are left out: they would describe the driver, not the library).
   */
  peakRssMb?(): Promise<number>
  /** graphgrad's training steps: live memory around and inside one extra, probed step. */
  memoryProbe?(): Promise<MemoryProbe>
  /** The threads the library runs on, where it says (graphgrad). */
  threads?(): number
  /** Frees what the library requires freeing (tfjs variables, jax-js arrays). */
  dispose(): void
}

/** Builds a runner for a workload, or throws if this implementation cannot run it. */
export type RunnerFactory = (w: Workload) => Promise<Runner>

/**
 * Live bytes now: V8 heap plus ArrayBuffers (where graphgrad's tensors live), after full
 * collections when the process has `--expose-gc`. ArrayBuffer backing stores are swept
 * concurrently, so a reading right after gc() can still count dead ones for a while. Nothing
 * else runs while this waits, so the live set is fixed and dead buffers only inflate a
 * reading: the minimum of a few rounds of collect, yield to the event loop, collect, read.
 */
export async function liveBytes(rounds = 3): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc
  let least = Number.POSITIVE_INFINITY
  for (let i = 0; i < rounds; i++) {
    gc?.()
    await new Promise((resolve) => setTimeout(resolve, 20))
    gc?.()
    const m = process.memoryUsage()
    least = Math.min(least, m.heapUsed + m.arrayBuffers)
  }
  return least
}
