/**
 * Emits the WebAssembly GEMM kernels of one precision (f32 lanes x4 or f64 lanes x2):
 *
 * - `packA` / `packB` (`gemm-pack.ts`): copy `n` lines (rows of op(A), columns of op(B)) by
 *   `kc` of a matrix stored anywhere in memory with any byte strides into `r`-wide
 *   interleaved slivers, zero-padding the last sliver. Transposes are absorbed there.
 * - the micro-kernel (`emitMicro`): the register tile. `mr` x `nr` accumulators (`mr * nr /
 *   lanes` v128 locals) stay in registers across the whole `kc` loop; each step loads
 *   `nr / lanes` vectors of B and broadcasts `mr` scalars of A. C is padded by the caller to whole tiles, so the
 *   kernel has no edge cases. The depth loop is unrolled `ku` times with an exit test after
 *   every step (see `emitMicro` for why that is what lets TurboFan unroll without spilling),
 *   and multiplies then adds, or with `relaxed` does one `relaxed_madd`.
 * - `macro`: the two loops over the slivers of a packed A block and a packed B panel, with
 *   the micro-kernel inline for each tile.
 *
 * Everything is addressed in bytes; the module imports its memory so the driver can grow it.
 * @module
 */
import { type FunctionBuilder, type Local, ModuleBuilder } from './module.ts'
import { BYTES, LANES, type Precision, emitPack } from './gemm-pack.ts'
import type { GemmBlocking } from '../matmul.ts'

export type { Precision } from './gemm-pack.ts'

/**
 * Tile and block sizes of a WASM GEMM, in elements: those of the TypeScript GEMM, with `nr`
 * a multiple of the SIMD lane count, `mc` of `mr` and `nc` of `nr`; and how far the
 * micro-kernel's depth loop is unrolled.
 */
export interface WasmBlocking extends GemmBlocking {
  /** Depth steps per iteration of the micro-kernel's loop (default 1: not unrolled). */
  readonly ku?: number
}

/** The exports of a GEMM kernel module (all arguments are i32: counts, byte addresses, byte strides). */
export interface GemmExports {
  /** `packA(src, lineStride, depthStride, n, kc, dst)` into `mr`-wide slivers. */
  packA(src: number, ls: number, ds: number, n: number, kc: number, dst: number): void
  /** `packB(src, lineStride, depthStride, n, kc, dst)` into `nr`-wide slivers. */
  packB(src: number, ls: number, ds: number, n: number, kc: number, dst: number): void
  /**
   * `macro(mc, nc, kc, aPacked, b, bSliverStep, ldb, c, ldc, first)`: C (+)= A block times B panel.
   * `ldb`, the bytes between depth steps of a B sliver, must be `nr` elements, as `packB` writes
   * them: the micro-kernel addresses an unrolled iteration's steps at constant offsets.
   */
  macro(mc: number, nc: number, kc: number, a: number, b: number, bStep: number, ldb: number, c: number, ldc: number, first: number): void
  /** `compact(c, ldc, rowBytes, rows)`: moves padded rows `ldc` bytes apart together, `rowBytes` apart. */
  compact(c: number, ldc: number, rowBytes: number, rows: number): void
  /** `transpose(src, lds, rows, cols, dst)`: writes the `rows` x `cols` matrix at `src` (rows `lds` bytes apart) transposed and dense at `dst`. */
  transpose(src: number, lds: number, rows: number, cols: number, dst: number): void
}

/** Options of {@link gemmModuleBytes}. */
export interface GemmModuleOptions {
  /** Import a shared memory (the worker pool's), not a plain one. */
  readonly shared?: boolean
  /**
   * Multiply and add with one `relaxed_madd` in the micro-kernel (fused where the hardware has
   * FMA: fewer instructions, one rounding instead of two); only engines with relaxed SIMD compile it.
   */
  readonly relaxed?: boolean
}

/** Emits the kernel module for `precision` and `blocking`. */
export function gemmModuleBytes(
  precision: Precision,
  blocking: WasmBlocking,
  { shared = false, relaxed = false }: GemmModuleOptions = {},
): Uint8Array<ArrayBuffer> {
  const { mr, nr, ku = 1 } = blocking
  if (!Number.isInteger(ku) || ku < 1) throw new RangeError(`wasm gemm: ku=${ku} is not a positive integer`)
  if (nr % LANES[precision] !== 0) throw new RangeError(`wasm gemm: nr=${nr} is not a multiple of ${LANES[precision]} lanes`)
  const m = new ModuleBuilder(shared)
  emitPack(m.function('packA', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32']).fn, precision, mr)
  emitPack(m.function('packB', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32']).fn, precision, nr)
  emitMacro(m.function('macro', new Array(10).fill('i32')).fn, precision, mr, nr, ku, relaxed)
  emitCompact(m.function('compact', ['i32', 'i32', 'i32', 'i32']).fn)
  emitTranspose(m.function('transpose', ['i32', 'i32', 'i32', 'i32', 'i32']).fn, precision)
  return m.encode()
}

/** The i32 locals one register tile reads: depth, packed slivers of A and B, C's tile and row stride, and whether to store or accumulate. */
interface TileArgs {
  readonly kc: Local<'i32'>
  readonly a: Local<'i32'>
  readonly b: Local<'i32'>
  readonly c: Local<'i32'>
  readonly ldc: Local<'i32'>
  readonly first: Local<'i32'>
}

/** Emits one register tile (the micro-kernel), inline: it steps `kc`, `a` and `b`. */
function emitMicro(
  f: FunctionBuilder,
  precision: Precision,
  mr: number,
  nr: number,
  ku: number,
  relaxed: boolean,
  { kc, a, b, c, ldc, first }: TileArgs,
): void {
  const E = BYTES[precision]
  const nv = nr / LANES[precision]
  const add = precision === 'f32' ? 'f32x4.add' : 'f64x2.add'
  const mul = precision === 'f32' ? 'f32x4.mul' : 'f64x2.mul'
  const madd = precision === 'f32' ? 'f32x4.relaxed_madd' : 'f64x2.relaxed_madd'
  const acc = Array.from({ length: mr }, () => Array.from({ length: nv }, () => f.local('v128')))
  const bv = Array.from({ length: nv }, () => f.local('v128'))
  const av = f.local('v128')
  for (const row of acc)
    for (const x of row)
      f.float(precision, 0)
        .op(precision === 'f32' ? 'f32x4.splat' : 'f64x2.splat')
        .set(x)
  // Depth step `u` of an iteration: slivers are dense, so every operand is at a constant offset.
  const step = (u: number): void => {
    for (let v = 0; v < nv; v++)
      f.get(b)
        .load('v128', (u * nr + v * LANES[precision]) * E)
        .set(bv[v])
    for (let i = 0; i < mr; i++) {
      f.get(a)
        .loadSplat(E === 4 ? 32 : 64, (u * mr + i) * E)
        .set(av)
      for (let v = 0; v < nv; v++) {
        if (relaxed) f.get(av).get(bv[v]).get(acc[i][v]).op(madd).set(acc[i][v])
        else f.get(acc[i][v]).get(av).get(bv[v]).op(mul).op(add).set(acc[i][v])
      }
    }
  }
  // Unrolled, with an exit test after every step: the exit's uses of the accumulators make
  // TurboFan compute each step before the next one's loads (it otherwise hoists all the loads
  // of an iteration to its top and spills), and any kc needs no remainder loop. kc counts the
  // steps left at the iteration's start, so each test compares it with a constant.
  f.block((done) =>
    f.loop((top) => {
      for (let u = 0; u < ku; u++) {
        step(u)
        if (u < ku - 1)
          f.get(kc)
            .i32(u + 1)
            .op('i32.eq')
            .brIf(done)
      }
      f.increment(a, ku * mr * E).increment(b, ku * nr * E)
      f.increment(kc, -ku).get(kc).i32(0).op('i32.gt_s').brIf(top)
    }),
  )
  const row = f.local('i32')
  const writeTile = (accumulate: boolean): void => {
    f.get(c).set(row)
    for (let i = 0; i < mr; i++) {
      for (let v = 0; v < nv; v++) {
        f.get(row)
        if (accumulate)
          f.get(row)
            .load('v128', v * 16)
            .get(acc[i][v])
            .op(add)
        else f.get(acc[i][v])
        f.store('v128', v * 16)
      }
      if (i < mr - 1) f.increment(row, ldc)
    }
  }
  f.get(first).if(
    () => writeTile(false),
    () => writeTile(true),
  )
}

function emitMacro(f: FunctionBuilder, precision: Precision, mr: number, nr: number, ku: number, relaxed: boolean): void {
  const [mc, nc, kc, a, b, bStep, , c, ldc, first] = f.params as Local<'i32'>[]
  const E = BYTES[precision]
  const [jr, ir, ap, cp, bp, ccol, aStep, cStep, tk, ta, tb] = Array.from({ length: 11 }, () => f.local('i32'))
  f.get(kc)
    .i32(mr * E)
    .op('i32.mul')
    .set(aStep)
  f.get(ldc).i32(mr).op('i32.mul').set(cStep)
  f.get(b).set(bp)
  f.get(c).set(ccol)
  f.i32(0).set(jr)
  f.block((doneCols) =>
    f.loop((cols) => {
      f.get(jr).get(nc).op('i32.ge_s').brIf(doneCols)
      f.get(a).set(ap)
      f.get(ccol).set(cp)
      f.i32(0).set(ir)
      f.block((doneRows) =>
        f.loop((rows) => {
          f.get(ir).get(mc).op('i32.ge_s').brIf(doneRows)
          // The tile is inline (a call per tile measured 2-5% slower); it steps copies of kc, ap and bp.
          f.get(kc).set(tk).get(ap).set(ta).get(bp).set(tb)
          emitMicro(f, precision, mr, nr, ku, relaxed, { kc: tk, a: ta, b: tb, c: cp, ldc, first })
          f.increment(ap, aStep).increment(cp, cStep).increment(ir, mr).br(rows)
        }),
      )
      f.increment(bp, bStep)
        .increment(ccol, nr * E)
        .increment(jr, nr)
        .br(cols)
    }),
  )
}

function emitCompact(f: FunctionBuilder): void {
  const [c, ldc, rowBytes, rows] = f.params as Local<'i32'>[]
  const [dst, src] = [f.local('i32'), f.local('i32')]
  f.get(c).set(dst)
  f.get(c).set(src)
  f.block((done) =>
    f.loop((row) => {
      f.increment(rows, -1).get(rows).i32(0).op('i32.le_s').brIf(done)
      f.increment(dst, rowBytes).increment(src, ldc)
      f.get(dst).get(src).get(rowBytes).memoryCopy()
      f.br(row)
    }),
  )
}

function emitTranspose(f: FunctionBuilder, precision: Precision): void {
  const [src, lds, rows, cols, dst] = f.params as Local<'i32'>[]
  const E = BYTES[precision]
  const [col, q, j] = [f.local('i32'), f.local('i32'), f.local('i32')]
  f.get(src).set(col)
  f.block((done) =>
    f.loop((outer) => {
      f.get(cols).i32(0).op('i32.le_s').brIf(done)
      f.get(col).set(q)
      f.get(rows).set(j)
      f.loop((inner) => {
        f.get(dst).get(q).load(precision).store(precision)
        f.increment(dst, E).increment(q, lds)
        f.increment(j, -1).get(j).brIf(inner)
      })
      f.increment(col, E).increment(cols, -1).br(outer)
    }),
  )
}
