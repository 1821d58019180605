/**
 * Emits the WebAssembly GEMM kernels of one precision (f32 lanes x4 or f64 lanes x2):
 *
 * - `packA` / `packB`: copy `n` lines (rows of op(A), columns of op(B)) by `kc` of a matrix
 *   stored anywhere in memory with any byte strides into `r`-wide interleaved slivers,
 *   zero-padding the last sliver. Transposes are absorbed here. Two fast paths: lines that
 *   are contiguous (a sliver step is one vector copy) and lines whose depth is contiguous
 *   (4x4 or 2x2 blocks transposed in registers with shuffles).
 * - `micro`: the register tile. `mr` x `nr` accumulators (`mr * nr / lanes` v128 locals)
 *   stay in registers across the whole `kc` loop; each step loads `nr / lanes` vectors of
 *   B and broadcasts `mr` scalars of A. C is padded by the caller to whole tiles, so the
 *   kernel has no edge cases.
 * - `macro`: the two loops over the slivers of a packed A block and a packed B panel,
 *   calling `micro` for each tile.
 *
 * Everything is addressed in bytes; the module imports its memory so the driver can grow it.
 * @module
 */
import { type FunctionBuilder, type Local, ModuleBuilder } from './module.ts'
import type { GemmBlocking } from '../matmul.ts'

/** Element precision of a kernel module. */
export type Precision = 'f32' | 'f64'

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
  /** `macro(mc, nc, kc, aPacked, b, bSliverStep, ldb, c, ldc, first)`: C (+)= A block times B panel. */
  macro(mc: number, nc: number, kc: number, a: number, b: number, bStep: number, ldb: number, c: number, ldc: number, first: number): void
  /** `compact(c, ldc, rowBytes, rows)`: moves padded rows `ldc` bytes apart together, `rowBytes` apart. */
  compact(c: number, ldc: number, rowBytes: number, rows: number): void
  /** `transpose(src, lds, rows, cols, dst)`: writes the `rows` x `cols` matrix at `src` (rows `lds` bytes apart) transposed and dense at `dst`. */
  transpose(src: number, lds: number, rows: number, cols: number, dst: number): void
}

const LANES: Record<Precision, number> = { f32: 4, f64: 2 }
const BYTES: Record<Precision, number> = { f32: 4, f64: 8 }

/**
 * Emits the kernel module for `precision` and `blocking`. With `relaxed` the micro-kernel
 * multiplies and adds with one `relaxed_madd` (fused where the hardware has FMA: fewer
 * instructions, one rounding instead of two), and only engines with relaxed SIMD compile it.
 */
export function gemmModuleBytes(precision: Precision, blocking: WasmBlocking, relaxed = false): Uint8Array<ArrayBuffer> {
  const { mr, nr, ku = 1 } = blocking
  if (!Number.isInteger(ku) || ku < 1) throw new RangeError(`wasm gemm: ku=${ku} is not a positive integer`)
  if (nr % LANES[precision] !== 0) throw new RangeError(`wasm gemm: nr=${nr} is not a multiple of ${LANES[precision]} lanes`)
  const m = new ModuleBuilder()
  emitPack(m.function('packA', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32']).fn, precision, mr)
  emitPack(m.function('packB', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32']).fn, precision, nr)
  const micro = m.function('micro', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'])
  emitMicro(micro.fn, precision, mr, nr, ku, relaxed)
  emitMacro(m.function('macro', new Array(10).fill('i32')).fn, micro.index, precision, mr, nr)
  emitCompact(m.function('compact', ['i32', 'i32', 'i32', 'i32']).fn)
  emitTranspose(m.function('transpose', ['i32', 'i32', 'i32', 'i32', 'i32']).fn, precision)
  return m.encode()
}

/** Emits a copy of `bytes` bytes from the address in `from` to the one in `to`, widest loads first. */
function copyBytes(f: FunctionBuilder, from: Local<'i32'>, to: Local<'i32'>, bytes: number): void {
  let at = 0
  for (const [type, width] of [
    ['v128', 16],
    ['i64', 8],
    ['i32', 4],
  ] as const) {
    for (; at + width <= bytes; at += width) f.get(to).get(from).load(type, at).store(type, at)
  }
}

/** Byte-lane indices of an `i8x16.shuffle` that picks `lanes` (of `width` bytes) from the two operands. */
function shuffleLanes(lanes: readonly number[], width: number): number[] {
  return lanes.flatMap((l) => Array.from({ length: width }, (_, b) => l * width + b))
}

/**
 * Emits the in-register transpose of a square block of `L` lines x `L` depth steps (L = lane
 * count): loads one vector per line from `q + line * ls`, stores one vector per depth step at
 * `p + step * r * E + groupOffset`.
 */
function emitTransposeBlock(
  f: FunctionBuilder,
  precision: Precision,
  q: Local<'i32'>,
  ls: Local<'i32'>,
  p: Local<'i32'>,
  rowBytes: number,
  groupOffset: number,
  tmp: Local<'v128'>[],
  addr: Local<'i32'>,
): void {
  const L = LANES[precision]
  const shuffle = (x: Local<'v128'>, y: Local<'v128'>, lanes: number[], width: number): void => {
    f.get(x).get(y).simdShuffle(shuffleLanes(lanes, width))
  }
  f.get(q).set(addr)
  for (let i = 0; i < L; i++) {
    f.get(addr).load('v128').set(tmp[i])
    if (i < L - 1) f.increment(addr, ls)
  }
  const store = (step: number, emitValue: () => void): void => {
    f.get(p)
    emitValue()
    f.store('v128', step * rowBytes + groupOffset)
  }
  if (L === 2) {
    store(0, () => shuffle(tmp[0], tmp[1], [0, 2], 8))
    store(1, () => shuffle(tmp[0], tmp[1], [1, 3], 8))
    return
  }
  // 4x4 f32: interleave line pairs, then pairs of pairs.
  const [r0, r1, r2, r3, t0, t1, t2, t3] = tmp
  shuffle(r0, r1, [0, 4, 1, 5], 4)
  f.set(t0)
  shuffle(r0, r1, [2, 6, 3, 7], 4)
  f.set(t1)
  shuffle(r2, r3, [0, 4, 1, 5], 4)
  f.set(t2)
  shuffle(r2, r3, [2, 6, 3, 7], 4)
  f.set(t3)
  store(0, () => shuffle(t0, t2, [0, 1, 4, 5], 4))
  store(1, () => shuffle(t0, t2, [2, 3, 6, 7], 4))
  store(2, () => shuffle(t1, t3, [0, 1, 4, 5], 4))
  store(3, () => shuffle(t1, t3, [2, 3, 6, 7], 4))
}

function emitPack(f: FunctionBuilder, precision: Precision, r: number): void {
  const [src, ls, ds, n, kc, dst] = f.params as Local<'i32'>[]
  const E = BYTES[precision]
  const L = LANES[precision]
  const [p, line, q, k, j, full, addr] = [f.local('i32'), f.local('i32'), f.local('i32'), f.local('i32'), f.local('i32'), f.local('i32'), f.local('i32')]
  const tmp = Array.from({ length: 8 }, () => f.local('v128'))
  const at = Array.from({ length: r }, () => f.local('i32'))
  const zero = (): void => {
    f.float(precision, 0)
  }
  f.get(dst).set(p)
  f.get(src).set(line)
  f.block((done) =>
    f.loop((sliver) => {
      f.get(n).i32(0).op('i32.le_s').brIf(done)
      // full = min(r, n)
      f.i32(r).get(n).get(n).i32(r).op('i32.ge_s').op('select').set(full)
      f.get(line).set(q)
      f.get(kc).set(k)
      f.get(full).i32(r).op('i32.eq').get(ls).i32(E).op('i32.eq').op('i32.and')
      f.if(
        () => {
          // Contiguous lines: each depth step of the sliver is r consecutive elements.
          f.loop((step) => {
            copyBytes(f, q, p, r * E)
            f.increment(p, r * E).increment(q, ds)
            f.increment(k, -1).get(k).brIf(step)
          })
        },
        () => {
          if (r % L === 0) {
            // Contiguous depth (and a whole sliver): L x L blocks transposed in registers.
            f.get(full).i32(r).op('i32.eq').get(ds).i32(E).op('i32.eq').op('i32.and')
            f.if(() => {
              f.block((tail) =>
                f.loop((quad) => {
                  f.get(k).i32(L).op('i32.lt_s').brIf(tail)
                  for (let g = 0; g < r / L; g++) {
                    f.get(q)
                      .i32(g * L)
                      .get(ls)
                      .op('i32.mul')
                      .op('i32.add')
                      .set(j)
                    emitTransposeBlock(f, precision, j, ls, p, r * E, g * L * E, tmp, addr)
                  }
                  f.increment(p, L * r * E)
                    .increment(q, L * E)
                    .increment(k, -L)
                    .br(quad)
                }),
              )
            })
          }
          if (2 * r === L) {
            // Contiguous depth, two lines (f32 mr = 2): L steps of both lines interleaved by two shuffles.
            f.get(full).i32(r).op('i32.eq').get(ds).i32(E).op('i32.eq').op('i32.and')
            f.if(() => {
              f.block((tail) =>
                f.loop((quad) => {
                  f.get(k).i32(L).op('i32.lt_s').brIf(tail)
                  f.get(q).load('v128').set(tmp[0])
                  f.get(q).get(ls).op('i32.add').load('v128').set(tmp[1])
                  f.get(p)
                    .get(tmp[0])
                    .get(tmp[1])
                    .simdShuffle(shuffleLanes([0, 4, 1, 5], E))
                    .store('v128')
                  f.get(p)
                    .get(tmp[0])
                    .get(tmp[1])
                    .simdShuffle(shuffleLanes([2, 6, 3, 7], E))
                    .store('v128', 16)
                  f.increment(p, L * r * E)
                    .increment(q, L * E)
                    .increment(k, -L)
                    .br(quad)
                }),
              )
            })
          }
          // The general case (and the tail of the transposing paths).
          f.get(full).i32(r).op('i32.eq')
          f.if(
            () => {
              // A whole sliver: one address per line, each stepped along the depth.
              f.get(q).set(at[0])
              for (let l = 1; l < r; l++)
                f.get(at[l - 1])
                  .get(ls)
                  .op('i32.add')
                  .set(at[l])
              f.block((end) =>
                f.loop((step) => {
                  f.get(k).i32(0).op('i32.le_s').brIf(end)
                  for (let l = 0; l < r; l++) {
                    f.get(p)
                      .get(at[l])
                      .load(precision)
                      .store(precision, l * E)
                    f.increment(at[l], ds)
                  }
                  f.increment(p, r * E)
                    .increment(k, -1)
                    .br(step)
                }),
              )
            },
            () => {
              // The last, partial sliver: element by element, zero-padded.
              f.block((end) =>
                f.loop((step) => {
                  f.get(k).i32(0).op('i32.le_s').brIf(end)
                  f.get(q).set(addr)
                  f.i32(0).set(j)
                  f.block((padded) =>
                    f.loop((copy) => {
                      f.get(j).get(full).op('i32.ge_s').brIf(padded)
                      f.get(p).get(addr).load(precision).store(precision)
                      f.increment(p, E).increment(addr, ls).increment(j, 1).br(copy)
                    }),
                  )
                  f.block((filled) =>
                    f.loop((pad) => {
                      f.get(j).i32(r).op('i32.ge_s').brIf(filled)
                      f.get(p)
                      zero()
                      f.store(precision)
                      f.increment(p, E).increment(j, 1).br(pad)
                    }),
                  )
                  f.increment(q, ds).increment(k, -1).br(step)
                }),
              )
            },
          )
        },
      )
      f.get(line).i32(r).get(ls).op('i32.mul').op('i32.add').set(line)
      f.increment(n, -r).br(sliver)
    }),
  )
}

function emitMicro(f: FunctionBuilder, precision: Precision, mr: number, nr: number, ku: number, relaxed: boolean): void {
  const [kc, a, b, , c, ldc, first] = f.params as Local<'i32'>[]
  const E = BYTES[precision]
  const nv = nr / LANES[precision]
  const add = precision === 'f32' ? 'f32x4.add' : 'f64x2.add'
  const mul = precision === 'f32' ? 'f32x4.mul' : 'f64x2.mul'
  const madd = precision === 'f32' ? 'f32x4.relaxed_madd' : 'f64x2.relaxed_madd'
  const acc = Array.from({ length: mr }, () => Array.from({ length: nv }, () => f.local('v128')))
  const bv = Array.from({ length: nv }, () => f.local('v128'))
  const av = f.local('v128')
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

function emitMacro(f: FunctionBuilder, micro: number, precision: Precision, mr: number, nr: number): void {
  const [mc, nc, kc, a, b, bStep, ldb, c, ldc, first] = f.params as Local<'i32'>[]
  const E = BYTES[precision]
  const [jr, ir, ap, cp, bp, ccol, aStep, cStep] = Array.from({ length: 8 }, () => f.local('i32'))
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
          f.get(kc).get(ap).get(bp).get(ldb).get(cp).get(ldc).get(first).call(micro)
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
