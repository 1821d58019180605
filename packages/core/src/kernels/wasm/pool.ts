/**
 * The WASM GEMM's thread pool: workers (Node `worker_threads`, or module Web Workers in a
 * cross-origin isolated page) that share the GEMM's `WebAssembly.Memory` and run chunks of a
 * product beside the calling thread.
 *
 * A product is split by its driver (`gemm-split.ts`) into chunks that write disjoint parts of
 * C; each chunk is a list of kernel calls (11 int32 words per call) in linear memory, found
 * through a table of [start, end) word indices per chunk. The control words (a small
 * SharedArrayBuffer) say which job is current: the word `JOB` packs a generation, the number of
 * chunks and the next unclaimed chunk (`gen << 16 | chunks << 8 | next`), and every thread, the
 * calling one included, claims chunks by compare-and-swap on that word. So the caller never
 * waits for a worker that has not started (a Web Worker starts only once the page yields; a
 * Node worker takes tens of milliseconds): it runs the unclaimed chunks itself, and waits only
 * for chunks a worker has claimed. Idle workers sleep in `Atomics.wait` on `JOB` (after a
 * bounded spin, of none by default); the pool's workers are `unref()`ed, so they never keep a Node process alive.
 * @module
 */
import type { Worker as NodeWorker } from 'node:worker_threads'
import { GraphgradError } from '../../errors.ts'

// Indices into the control words; pool-worker.js has the same list.
const JOB = 0
const DONE = 1
const PRECISION = 2
const TABLE = 3
const STOP = 4
const FAILED = 5
const BY_WORKERS = 6
const STARTED = 7
const SPIN = 8
const PROBE = 9
const LENGTH = 10
const CONTROL_WORDS = 16
/** Int32 words per listed kernel call: the kernel's number (0 packA, 1 packB, 2 macro), then its arguments. */
export const CALL_WORDS = 11
/** The most chunks one product may have (a byte of the `JOB` word). */
export const MAX_CHUNKS = 255

/**
 * Rounds of Atomics.load an idle worker spins before it sleeps (the worker reads it from the
 * control words). 0: spins of 2,000 rounds (~40 µs here) and 30,000 measured no faster on a
 * simulated recurrent scan with the machine busy (and the long one 25% slower), and the step
 * products of a scan come further apart than a short spin lasts. A late worker costs little:
 * the caller claims the parts that no worker has claimed yet.
 */
const WORKER_SPIN = 0
/** Rounds the caller spins before it sleeps waiting for parts that workers claimed: they end soon after its own. */
const CALLER_SPIN = 2000

const PAGE = 65536

/** How long {@link GemmPool.started} waits for the workers. */
const STARTUP_MS = 20_000

/** The kernels one chunk calls, in the order of the call numbers. */
export type ChunkKernels = readonly [
  packA: (src: number, ls: number, ds: number, n: number, kc: number, dst: number) => void,
  packB: (src: number, ls: number, ds: number, n: number, kc: number, dst: number) => void,
  macro: (mc: number, nc: number, kc: number, a: number, b: number, bStep: number, ldb: number, c: number, ldc: number, first: number) => void,
]

/** A pool of `threads - 1` workers plus the calling thread. */
export interface GemmPool {
  /** Threads that run a job, the calling one included. */
  readonly threads: number
  /**
   * Runs the chunks listed by the table at byte `table` of linear memory with the kernels of
   * module `precision` (an index into the modules the pool was made with); returns when all
   * are done. `kernels` are the calling thread's instances of the same modules.
   */
  run(precision: number, table: number, chunks: number, kernels: ChunkKernels, words: Int32Array): void
  /** Resolves once every worker is ready to claim chunks (tests wait for it; products never need to). */
  started(): Promise<void>
  /** Chunks run by workers so far (not by the calling thread). */
  chunksByWorkers(): number
  /** Stops the workers; the pool must not be used afterwards. */
  close(): void
}

interface NodeThreads {
  readonly Worker: typeof NodeWorker
}

/** `node:worker_threads` where this is Node 20.16+ (`process.getBuiltinModule`), without an import a bundler would follow. */
function nodeThreads(): NodeThreads | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
  return proc?.getBuiltinModule?.('node:worker_threads') as NodeThreads | undefined
}

/**
 * Why worker threads cannot run here, or null when they can: they need SharedArrayBuffer and
 * either Node 20.16+ or Web Workers in a cross-origin isolated page.
 */
export function threadsUnavailable(): string | null {
  if (typeof SharedArrayBuffer !== 'function') return 'SharedArrayBuffer is unavailable (in a browser, the page must be cross-origin isolated)'
  const proc = (globalThis as { process?: { versions?: { node?: string }; permission?: { has?(scope: string): boolean } } }).process
  if (proc?.versions?.node !== undefined) {
    if (nodeThreads() === undefined) return 'this Node lacks process.getBuiltinModule (Node 20.16 or newer has it)'
    return proc.permission?.has?.('worker') === false ? "Node's permission model does not allow worker threads (--allow-worker)" : null
  }
  if (typeof Worker !== 'function') return 'this environment has no Web Workers'
  return (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true ? null : 'the page is not cross-origin isolated'
}

interface PoolWorker {
  terminate(): unknown
}

/**
 * Starts a worker running pool-worker.js: in Node unref()ed, so that it never keeps the process
 * alive, and without the parent's flags (`-e` would be run again; the script needs no loader).
 * A worker that fails to start claims no chunks, so the calling thread runs them; `failed` hears why.
 */
function spawn(node: NodeThreads | undefined, init: unknown, failed: (error: unknown) => void): PoolWorker {
  if (node !== undefined) {
    const worker = new node.Worker(new URL('./pool-worker.js', import.meta.url), { execArgv: [] })
    worker.on('error', failed)
    worker.unref()
    worker.postMessage(init)
    return worker
  }
  const worker = new Worker(new URL('./pool-worker.js', import.meta.url), { type: 'module' })
  worker.addEventListener('error', failed)
  worker.postMessage(init)
  return worker
}

/** Runs chunk `chunk` of the table at word `table`: the calling thread's twin of pool-worker.js's `runChunk`. */
function runChunk(words: Int32Array, kernels: ChunkKernels, table: number, chunk: number): void {
  const [packA, packB, macro] = kernels
  const end = words[table + 2 * chunk + 1]
  for (let p = words[table + 2 * chunk]; p < end; p += CALL_WORDS) {
    const op = words[p]
    if (op === 2)
      macro(words[p + 1], words[p + 2], words[p + 3], words[p + 4], words[p + 5], words[p + 6], words[p + 7], words[p + 8], words[p + 9], words[p + 10])
    else (op === 0 ? packA : packB)(words[p + 1], words[p + 2], words[p + 3], words[p + 4], words[p + 5], words[p + 6])
  }
}

/**
 * Starts `threads - 1` workers on `memory` (shared) with the kernel `modules`; null when
 * threads cannot run here ({@link threadsUnavailable}) or `threads` is 1.
 */
export function createGemmPool(memory: WebAssembly.Memory, modules: readonly WebAssembly.Module[], threads: number): GemmPool | null {
  if (threads <= 1 || threadsUnavailable() !== null) return null
  const ctl = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4))
  ctl[SPIN] = WORKER_SPIN
  // The browser's main thread may not block in Atomics.wait (it throws); there the caller only spins.
  let canBlock = true
  try {
    Atomics.wait(ctl, PROBE, 1, 0)
  } catch {
    canBlock = false
  }
  const node = nodeThreads()
  const init = { memory, modules, control: ctl.buffer }
  let failure: unknown = null
  const workers: PoolWorker[] = []
  try {
    for (let i = 1; i < threads; i++)
      workers.push(
        spawn(node, init, (error) => {
          failure ??= error
        }),
      )
  } catch {
    // A worker that cannot even be created (no worker file next to a bundle, import.meta.url
    // missing in a CommonJS bundle, a sandbox that forbids threads): no pool, one thread.
    for (const w of workers) void w.terminate()
    return null
  }
  let generation = 0

  const run = (precision: number, table: number, chunks: number, kernels: ChunkKernels, words: Int32Array): void => {
    generation = (generation + 1) & 0x7fff
    Atomics.store(ctl, DONE, 0)
    Atomics.store(ctl, PRECISION, precision)
    Atomics.store(ctl, TABLE, table)
    // A worker whose view of the memory predates this product's growth must refresh it first.
    Atomics.store(ctl, LENGTH, words.byteLength / PAGE)
    Atomics.store(ctl, JOB, (generation << 16) | (chunks << 8))
    Atomics.notify(ctl, JOB, Math.min(workers.length, chunks - 1))
    for (;;) {
      const job = Atomics.load(ctl, JOB)
      const index = job & 0xff
      if (index >= chunks) break
      if (Atomics.compareExchange(ctl, JOB, job, job + 1) !== job) continue
      runChunk(words, kernels, table >> 2, index)
      Atomics.add(ctl, DONE, 1)
    }
    for (let spin = CALLER_SPIN; ; spin--) {
      const done = Atomics.load(ctl, DONE)
      if (done >= chunks) break
      if (spin <= 0 && canBlock) Atomics.wait(ctl, DONE, done)
    }
    if (Atomics.load(ctl, FAILED) !== 0) {
      Atomics.store(ctl, FAILED, 0)
      throw new GraphgradError('wasm gemm: a worker thread failed while computing its part of a product (its part of C is not written)')
    }
  }

  const started = async (): Promise<void> => {
    const deadline = performance.now() + STARTUP_MS
    while (Atomics.load(ctl, STARTED) < workers.length) {
      if (failure !== null || performance.now() > deadline)
        throw new GraphgradError(`wasm gemm: the thread pool's workers did not start: ${String(failure ?? `not within ${STARTUP_MS} ms`)}`)
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
  }

  const close = (): void => {
    Atomics.store(ctl, STOP, 1)
    Atomics.notify(ctl, JOB)
    for (const w of workers) void w.terminate()
  }

  return { threads, run, started, chunksByWorkers: () => Atomics.load(ctl, BY_WORKERS), close }
}
