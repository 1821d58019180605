/**
 * Which kernels run a scan's steps, and where their rows live. A float64 model runs the
 * TypeScript kernels (exact activations) over float64 rows. A float32 model runs the
 * WebAssembly SIMD kernels over float32 rows in their linear memory (`wasm-cells.ts`) when
 * the GEMM runs on WebAssembly (core's `setGemmBackend`, `GRAPHGRAD_GEMM`, or `'auto'`'s
 * probe), else the TypeScript kernels with the float32-accurate activations (`approx.ts`)
 * over float64 rows: the reference, and the fallback under a Content-Security-Policy that
 * refuses WebAssembly. Following the GEMM keeps one switch, and a page that chose the
 * TypeScript GEMM to avoid the probe's CSP report gets no second probe from here. The two
 * kernels agree to a few float32 ulps.
 * @module
 */
import { ArgumentError } from '@graphgrad/core'
import { gemmBackend, wasmSupport } from '@graphgrad/core/internal'
import type { BackwardRows, CellKernel, ForwardRows } from './cell.ts'
import { type BiasedRowsKernel, type Floats, biasedRowLoader, copier } from './copy.ts'
import { type CellArena, cellArena, hasWasmCell, wasmCellsCompile } from './wasm-cells.ts'

/** Which kernels run a float32 scan: the WebAssembly ones, the TypeScript ones, or those of the GEMM's backend. */
export type CellBackend = 'wasm' | 'js' | 'auto'

let chosen: CellBackend = 'auto'

/**
 * Chooses the kernels of float32 scans apart from the GEMM's (float64 ones always run the
 * TypeScript kernels): for tests and measurements that compare the two. `'wasm'` throws
 * where WebAssembly SIMD cannot compile.
 */
export function setCellBackend(backend: CellBackend): void {
  if (backend !== 'wasm' && backend !== 'js' && backend !== 'auto')
    throw new ArgumentError(`setCellBackend: unknown backend '${String(backend)}' (expected 'wasm', 'js' or 'auto')`)
  if (backend === 'wasm' && wasmSupport() !== 'ok') throw new ArgumentError(`setCellBackend: 'wasm' cannot run here (WebAssembly SIMD is ${wasmSupport()})`)
  if (backend === 'wasm' && !wasmCellsCompile())
    throw new ArgumentError("setCellBackend: 'wasm' cannot run here (the engine refused to compile the cell kernels)")
  chosen = backend
}

/** The kernels a scan of cell `k` over `model`'s dtype runs on. */
export function cellBackendFor(k: CellKernel, model: Floats): 'wasm' | 'js' {
  const wasm = model instanceof Float32Array && hasWasmCell(k) && (chosen === 'wasm' || (chosen === 'auto' && gemmBackend() === 'wasm' && wasmCellsCompile()))
  return wasm ? 'wasm' : 'js'
}

/** Makes a zeroed row of `n` floats. */
export type RowAlloc = (n: number) => Floats

/** A scan's step kernel bound to its rows. */
export interface CellSteps<R> {
  /** The step's rows, built once by the caller's `build` and reused at every step. */
  readonly rows: R
  /** Runs one step over {@link CellSteps.rows}. */
  step(): void
  /** `into[r*width + j] = src[srcAt + r*width + j] + bias[j]` for r < rows: a step's input projection with its bias, into one of the rows. */
  loadBiased(src: Floats, srcAt: number, into: Floats, rows: number, width: number, bias: Float64Array): void
  /** `into[j] += m[r*width + j]` for r < rows, `m` one of the rows: one step's share of a bias's cotangent. */
  sumRows(m: Floats, rows: number, width: number, into: Float64Array): void
  /** Frees the rows' memory (WASM); the rows must not be used afterwards. */
  release(): void
}

/** Builds the rows of a scan's forward and binds the step kernel of `k` for `model`'s dtype. */
export function forwardSteps(
  k: CellKernel,
  model: Floats,
  B: number,
  H: number,
  build: (alloc: RowAlloc) => ForwardRows<Floats>,
): CellSteps<ForwardRows<Floats>> {
  return bind(
    k,
    model,
    k.gates * H,
    build,
    (arena, rows) => arena.forward(B, H, rows as ForwardRows<Float32Array>),
    (rows, approx) => k.forward(B, H, rows as ForwardRows, approx),
  )
}

/** Builds the rows of a scan's backward and binds the step kernel of `k` for `model`'s dtype. */
export function backwardSteps<R extends BackwardRows<Floats>>(k: CellKernel, model: Floats, B: number, H: number, build: (alloc: RowAlloc) => R): CellSteps<R> {
  return bind(
    k,
    model,
    k.gates * H,
    build,
    (arena, rows) => arena.backward(B, H, rows as BackwardRows<Float32Array>),
    (rows, approx) => k.backward(B, H, rows as BackwardRows, approx),
  )
}

/**
 * Float64 rows for the TypeScript kernels, or float32 views of a WASM arena: built once with
 * empty arrays to size the arena (it cannot grow once views exist), then for real. The arena
 * also holds a row for the input bias (converted once per bias) and one for a step's column
 * sums, for the two passes the WASM path runs in linear memory too. The step functions get
 * the rows their backend allocated: float32 arena views for `wasm`, float64 arrays for `js`.
 */
function bind<R>(
  k: CellKernel,
  model: Floats,
  width: number,
  build: (alloc: RowAlloc) => R,
  wasm: (arena: CellArena, rows: R) => void,
  js: (rows: R, approx: boolean) => void,
): CellSteps<R> {
  if (cellBackendFor(k, model) === 'js') {
    const rows = build((n) => new Float64Array(n))
    const approx = model instanceof Float32Array
    // A scan loads from one source into one row, so the loader for their classes is looked up once.
    let load: BiasedRowsKernel | undefined
    return {
      rows,
      step: () => js(rows, approx),
      loadBiased: (src, srcAt, into, n, w, bias) => (load ??= biasedRowLoader(src, into))(src, srcAt, into, n, w, bias),
      sumRows: sumRowsInto,
      release: () => {},
    }
  }
  let floats = 2 * Math.ceil(width / 4) * 4
  build((n) => {
    floats += Math.ceil(n / 4) * 4
    return new Float32Array(0)
  })
  const arena = cellArena(k, floats)
  const rows = build((n) => arena.rows(n))
  const bias = arena.rows(width)
  const sums = arena.rows(width)
  let biasOf: Float64Array | null = null
  // `into` and `m` are rows of this arena (float32 views), as the scan passes only its rows.
  return {
    rows,
    step: () => wasm(arena, rows),
    loadBiased(src, srcAt, into, n, w, b) {
      if (b !== biasOf) copier(b, bias)(b, 0, bias, 0, w)
      biasOf = b
      into.set(src.subarray(srcAt, srcAt + n * w))
      arena.addBias(into as Float32Array, n, w, bias)
    },
    sumRows(m, n, w, into) {
      sums.fill(0)
      arena.sumInto(m as Float32Array, n, w, sums)
      for (let j = 0; j < w; j++) into[j] += sums[j]
    },
    release: () => arena.release(),
  }
}

/** `into[j] += sum over r < rows of m[r * width + j]`. */
function sumRowsInto(m: Floats, rows: number, width: number, into: Float64Array): void {
  for (let r = 0; r < rows; r++) for (let j = 0; j < width; j++) into[j] += m[r * width + j]
}
