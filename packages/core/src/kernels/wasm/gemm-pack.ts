/**
 * Emits the packing kernels of the WASM GEMM (`packA`, `packB`): lines of a strided matrix
 * into interleaved slivers, transposes absorbed. Fast paths, tried in order: contiguous lines
 * (a depth step of a sliver is one vector copy); contiguous depth, whole slivers (L x L blocks,
 * or for two f32 lines 2 x 4 blocks, transposed in registers with shuffles); a whole narrow
 * sliver with one address per line; and element by element for the rest.
 * @module
 */
import type { FunctionBuilder, Local } from './module.ts'

/** Element precision of a kernel module. */
export type Precision = 'f32' | 'f64'

/** SIMD lanes per v128, by precision. */
export const LANES: Readonly<Record<Precision, number>> = { f32: 4, f64: 2 }
/** Bytes per element, by precision. */
export const BYTES: Readonly<Record<Precision, number>> = { f32: 4, f64: 8 }

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

/**
 * Emits `pack(src, lineStride, depthStride, n, kc, dst)`: `n` lines by `kc` depth steps of a
 * matrix anywhere in memory, with any byte strides, into `r`-wide interleaved slivers (`r`
 * elements per depth step), the last sliver zero-padded.
 */
export function emitPack(f: FunctionBuilder, precision: Precision, r: number): void {
  const [src, ls, ds, n, kc, dst] = f.params as Local<'i32'>[]
  const E = BYTES[precision]
  const L = LANES[precision]
  const [p, line, q, k, j, full, addr] = [f.local('i32'), f.local('i32'), f.local('i32'), f.local('i32'), f.local('i32'), f.local('i32'), f.local('i32')]
  const tmp = Array.from({ length: 8 }, () => f.local('v128'))
  const at = Array.from({ length: Math.min(r, 4) }, () => f.local('i32'))
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
          if (L === 4 && r === 2) {
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
          // The general case (and the tail of the transposing paths). Only narrow slivers (A's)
          // get the path with one address per line: B's would not fit the 4 KB module budget.
          const cursor: PackCursor = { precision, r, ls, ds, p, q, k, full }
          if (r <= 4) {
            f.get(full).i32(r).op('i32.eq')
            f.if(
              () => emitLineSteps(f, cursor, at),
              () => emitElementSteps(f, cursor, j, addr),
            )
          } else emitElementSteps(f, cursor, j, addr)
        },
      )
      f.get(line).i32(r).get(ls).op('i32.mul').op('i32.add').set(line)
      f.increment(n, -r).br(sliver)
    }),
  )
}

/** What the depth-step loops of a pack share: sizes and the i32 locals they step. */
interface PackCursor {
  readonly precision: Precision
  /** Sliver width. */
  readonly r: number
  /** Line and depth strides (bytes). */
  readonly ls: Local<'i32'>
  readonly ds: Local<'i32'>
  /** Where the next packed element goes. */
  readonly p: Local<'i32'>
  /** The sliver's first line at the current depth. */
  readonly q: Local<'i32'>
  /** Depth steps left. */
  readonly k: Local<'i32'>
  /** Lines in this sliver (at most r). */
  readonly full: Local<'i32'>
}

/** The depth steps left of a whole sliver, with one address per line (`at`) stepped along the depth. */
function emitLineSteps(f: FunctionBuilder, { precision, r, ls, ds, p, q, k }: PackCursor, at: Local<'i32'>[]): void {
  const E = BYTES[precision]
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
}

/** The depth steps left, element by element, zero-padding a partial sliver's missing lines. */
function emitElementSteps(f: FunctionBuilder, { precision, r, ls, ds, p, q, k, full }: PackCursor, j: Local<'i32'>, addr: Local<'i32'>): void {
  const E = BYTES[precision]
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
          f.get(p).float(precision, 0).store(precision)
          f.increment(p, E).increment(j, 1).br(pad)
        }),
      )
      f.increment(q, ds).increment(k, -1).br(step)
    }),
  )
}
