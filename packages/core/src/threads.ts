/**
 * How many threads graphgrad's matrix products use: {@link setNumThreads}, {@link numThreads}
 * and the environment variable `GRAPHGRAD_THREADS`.
 * @module
 */
import { ArgumentError } from './errors.ts'
import { threadsUnavailable } from './kernels/wasm/pool.ts'

/** The most threads {@link setNumThreads} accepts. */
export const MAX_THREADS = 64

let count: number | undefined
const listeners: ((threads: number) => void)[] = []

/** `value` when it is a valid count, else a message saying what a count must be. */
function parse(value: unknown): number | string {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_THREADS)
    return `expected a whole number of threads from 1 to ${MAX_THREADS}`
  return value
}

/** What `value` is, for an error message ('x' quoted, 1.5 and NaN as they print). */
function shown(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : String(value)
}

/**
 * The default: `GRAPHGRAD_THREADS` where `process.env` has it; else in Node
 * `os.availableParallelism()`, in a browser `navigator.hardwareConcurrency` when the page is
 * cross-origin isolated; else 1.
 */
function defaultCount(): number {
  const g = globalThis as {
    process?: { env?: Record<string, string | undefined>; getBuiltinModule?: (id: string) => unknown }
    navigator?: { hardwareConcurrency?: number }
  }
  const env = g.process?.env?.GRAPHGRAD_THREADS
  if (env !== undefined && env !== '') {
    const n = parse(/^\s*\d+\s*$/.test(env) ? Number(env) : env)
    if (typeof n === 'string') throw new ArgumentError(`GRAPHGRAD_THREADS='${env}': ${n}`)
    return n
  }
  if (threadsUnavailable() !== null) return 1
  const os = g.process?.getBuiltinModule?.('node:os') as { availableParallelism?: () => number } | undefined
  const n = os?.availableParallelism?.() ?? g.navigator?.hardwareConcurrency ?? 1
  return Math.min(MAX_THREADS, Math.max(1, Math.floor(n)))
}

/**
 * The number of threads matrix products use (see {@link setNumThreads}), settling the default on
 * first call: throws an `ArgumentError` naming `GRAPHGRAD_THREADS` and its value when that
 * variable is set to anything but a whole number from 1 to {@link MAX_THREADS}.
 */
export function numThreads(): number {
  count ??= defaultCount()
  return count
}

/**
 * Chooses how many threads the WebAssembly GEMM (behind `matmul` and the recurrent layers) uses:
 * large products are cut into parts that worker threads compute beside the calling thread, on
 * one shared `WebAssembly.Memory`; products under about two million multiply-adds stay on the
 * calling thread. Results do not depend on the count: every element of a product is computed by
 * the same sequence of kernel steps, whichever thread runs it (bit-identical). `1` is the
 * single-thread GEMM, with no workers and no shared memory.
 *
 * The default is `GRAPHGRAD_THREADS` where the environment has it (read at the first product,
 * never at import); else Node's `os.availableParallelism()`; in a browser the
 * `navigator.hardwareConcurrency` of a cross-origin isolated page (threads need
 * SharedArrayBuffer), and 1 elsewhere. Threads need Node 20.16 or newer (older Node uses 1).
 * Workers are started at the first product large enough to split, sleep when idle, and never
 * keep a Node process alive. The TypeScript GEMM (`GRAPHGRAD_GEMM=js`) always uses one thread.
 *
 * @param threads - A whole number from 1 to {@link MAX_THREADS}; anything else throws an
 * `ArgumentError`, as does a count above 1 where threads cannot run (a browser page that is not
 * cross-origin isolated, a Node without `process.getBuiltinModule`, Node's permission model
 * without `--allow-worker`), saying why. Where workers turn out not to start at all (a bundle
 * without the worker file next to it), products run on the calling thread.
 */
export function setNumThreads(threads: number): void {
  const n = parse(threads)
  if (typeof n === 'string') throw new ArgumentError(`setNumThreads(${shown(threads)}): ${n}`)
  const why = n > 1 ? threadsUnavailable() : null
  if (why !== null) throw new ArgumentError(`setNumThreads(${n}): threads cannot run here: ${why}`)
  count = n
  for (const listener of listeners) listener(n)
}

/** @internal Calls `listener` with the new count at each {@link setNumThreads}. */
export function onNumThreads(listener: (threads: number) => void): void {
  listeners.push(listener)
}
