/**
 * The float32 cell kernels of `wasm-cells-module.ts` at run time: the module compiled once
 * (at the first float32 scan, synchronously: it is a few KB), and per scan an arena, an
 * instance with its own linear memory in which the step's rows are `Float32Array` views. The
 * scan fills and drains those rows with plain float32 copies (memcpy) and calls the step
 * functions with their addresses, so no float32 value is widened or narrowed on the way.
 *
 * Arenas are pooled: a scan takes a free one (growing its memory before any view exists,
 * since growing detaches the old views) and gives it back when it ends, so nested or
 * interleaved scans each get their own.
 * @module
 */
import type { CellKernel } from './cell.ts'
import { gruKernel } from './gru.ts'
import { lstmKernel } from './lstm.ts'
import { rnnReluKernel, rnnTanhKernel } from './rnn.ts'
import { BACKWARD_ROWS, FORWARD_ROWS, type WasmCellName, cellModuleBytes } from './wasm-cells-module.ts'

/** The step functions of one cell: `(B, H, ...row byte addresses)`. */
type StepFunction = (B: number, H: number, ...addresses: number[]) => void

/** The WASM twin of each TypeScript cell kernel. */
const NAMES = new Map<CellKernel, WasmCellName>([
  [lstmKernel, 'lstm'],
  [gruKernel, 'gru'],
  [rnnTanhKernel, 'rnnTanh'],
  [rnnReluKernel, 'rnnRelu'],
])

/** Whether `k` has a WASM twin. */
export function hasWasmCell(k: CellKernel): boolean {
  return NAMES.has(k)
}

const PAGE = 65536
/** Views start on 16-byte boundaries, so every v128 access of a row's body is aligned. */
const ALIGN_FLOATS = 4

/** The compiled module, null when compiling it failed, undefined before the first try. */
let compiled: WebAssembly.Module | null | undefined

/**
 * Whether the cell module compiles here, tried once. The caller has checked `wasmSupport()`
 * (SIMD present, compilation allowed); this also covers engines that refuse a module of this
 * size (about 10 KB) on a browser's main thread, as Chrome before 114 did above 4 KB.
 */
export function wasmCellsCompile(): boolean {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(cellModuleBytes())
    } catch {
      compiled = null
    }
  }
  return compiled !== null
}

interface Instance {
  readonly memory: WebAssembly.Memory
  readonly exports: Readonly<Record<string, StepFunction>>
}

const free: Instance[] = []

/** One scan's rows in linear memory and the step functions of its cell. */
export interface CellArena {
  /** A zeroed view of `n` floats (16-byte aligned), valid until {@link CellArena.release}. */
  rows(n: number): Float32Array
  /** One forward step over `rows` (the views this arena gave). */
  forward(B: number, H: number, rows: Readonly<Record<(typeof FORWARD_ROWS)[number], Float32Array>>): void
  /** One backward step over `rows` (the views this arena gave). */
  backward(B: number, H: number, rows: Readonly<Record<(typeof BACKWARD_ROWS)[number], Float32Array>>): void
  /** `m[r*width + j] += bias[j]` for r < rows (both views of this arena). */
  addBias(m: Float32Array, rows: number, width: number, bias: Float32Array): void
  /** `into[j] += m[r*width + j]` for r < rows (both views of this arena). */
  sumInto(m: Float32Array, rows: number, width: number, into: Float32Array): void
  /** Gives the memory back to the pool; its views must not be used afterwards. */
  release(): void
}

/**
 * An arena of at least `floats` floats for cell `k` (rows of `n` floats take `n` rounded up
 * to a multiple of 4). Throws when `k` has no WASM twin ({@link hasWasmCell}) or the module
 * does not compile here ({@link wasmCellsCompile}).
 */
export function cellArena(k: CellKernel, floats: number): CellArena {
  const name = NAMES.get(k)
  if (name === undefined || !wasmCellsCompile() || compiled == null) throw new Error('wasm cells: no WebAssembly kernel for this cell here')
  const bytes = floats * 4
  const inst = free.pop() ?? newInstance(compiled)
  const have = inst.memory.buffer.byteLength
  if (have < bytes) inst.memory.grow(Math.ceil((bytes - have) / PAGE))
  new Uint8Array(inst.memory.buffer, 0, bytes).fill(0)
  const forward = inst.exports[`${name}Forward`]
  const backward = inst.exports[`${name}Backward`]
  const { addBias, sumInto } = inst.exports
  let used = 0
  let released = false
  return {
    rows(n) {
      const at = used
      used += Math.ceil(n / ALIGN_FLOATS) * ALIGN_FLOATS
      if (used > floats) throw new Error(`wasm cells: arena of ${floats} floats overrun`)
      return new Float32Array(inst.memory.buffer, at * 4, n)
    },
    forward(B, H, rows) {
      forward(B, H, ...FORWARD_ROWS.map((r) => rows[r].byteOffset))
    },
    backward(B, H, rows) {
      backward(B, H, ...BACKWARD_ROWS.map((r) => rows[r].byteOffset))
    },
    addBias: (m, rows, width, bias) => addBias(rows, width, m.byteOffset, bias.byteOffset),
    sumInto: (m, rows, width, into) => sumInto(rows, width, m.byteOffset, into.byteOffset),
    release() {
      if (released) return
      released = true
      free.push(inst)
    },
  }
}

function newInstance(module: WebAssembly.Module): Instance {
  const memory = new WebAssembly.Memory({ initial: 1 })
  const instance = new WebAssembly.Instance(module, { env: { memory } })
  return { memory, exports: instance.exports as unknown as Record<string, StepFunction> }
}
