/**
 * The WebAssembly cell kernels against their TypeScript reference (with the float32-accurate
 * activations), one step forward and backward for every cell, on random B and H (H not a
 * multiple of 4 exercises the one-lane tail; B = 1 and H = 1 included), random float32 values
 * including the activations' clamped region (|x| up to 40), and NaN at a random place: the
 * WASM results must be NaN exactly where the reference's are.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { CaseSampler } from '@graphgrad/core'
import type { BackwardRows, CellKernel, ForwardRows } from '../src/kernels/cell.ts'
import { lstmKernel } from '../src/kernels/lstm.ts'
import { gruKernel } from '../src/kernels/gru.ts'
import { rnnReluKernel, rnnTanhKernel } from '../src/kernels/rnn.ts'
import { cellArena } from '../src/kernels/wasm-cells.ts'
import { BACKWARD_ROWS, FORWARD_ROWS } from '../src/kernels/wasm-cells-module.ts'

const CELLS: readonly [string, CellKernel][] = [
  ['lstm', lstmKernel],
  ['gru', gruKernel],
  ['rnn_tanh', rnnTanhKernel],
  ['rnn_relu', rnnReluKernel],
]

type RowName = (typeof FORWARD_ROWS)[number] | (typeof BACKWARD_ROWS)[number]

/** How long each row is, and which ones a step writes. */
function rowSizes(k: CellKernel, B: number, H: number): Record<RowName, number> {
  const BH = B * H
  const GH = k.gates * H
  const state = k.hasCell ? BH : 0
  return {
    gx: B * GH,
    pre: B * GH,
    bhh: k.stepBias ? GH : 0,
    hPrev: BH,
    cPrev: state,
    hNext: BH,
    cNext: state,
    cache: B * k.cacheWidth * H,
    dh: BH,
    dc: state,
    dgx: B * GH,
    dpre: B * GH,
    dhPrev: BH,
    dcPrev: state,
  }
}

const WRITTEN = new Set<RowName>(['hNext', 'cNext', 'cache', 'dgx', 'dpre', 'dhPrev', 'dcPrev'])

/** Random float32 rows: mostly moderate, some in the clamp region, and one NaN in an input when `nan`. */
function inputs(
  names: readonly RowName[],
  outputs: readonly RowName[],
  sizes: Record<RowName, number>,
  s: CaseSampler,
  nan: boolean,
): Map<RowName, Float32Array> {
  const rows = new Map<RowName, Float32Array>()
  for (const name of names) {
    const row = new Float32Array(sizes[name])
    const wide = name === 'gx' || name === 'pre' || name === 'cNext'
    for (let i = 0; i < row.length; i++) row[i] = wide && s.coin(0.2) ? s.float(-40, 40) : s.float(-3, 3)
    rows.set(name, row)
  }
  if (nan) {
    const row = rows.get(s.pick(names.filter((n) => !outputs.includes(n) && sizes[n] > 0))) as Float32Array
    row[s.int(0, row.length - 1)] = NaN
  }
  return rows
}

/** Runs one step both ways from the same float32 inputs and compares every row the step writes. */
function compareStep(k: CellKernel, B: number, H: number, direction: 'forward' | 'backward', s: CaseSampler, nan: boolean): void {
  const names = direction === 'forward' ? FORWARD_ROWS : BACKWARD_ROWS
  const sizes = rowSizes(k, B, H)
  // The backward reads the forward's outputs, so there they are inputs too.
  const outputs = names.filter((n) => WRITTEN.has(n) && (direction === 'forward' || n.startsWith('d')))
  const given = inputs(names, outputs, sizes, s, nan)
  const ts = new Map([...given].map(([n, row]) => [n, Float64Array.from(row)]))
  let floats = 0
  for (const n of names) floats += Math.ceil(sizes[n] / 4) * 4
  const arena = cellArena(k, floats)
  try {
    const wasm = new Map(names.map((n) => [n, arena.rows(sizes[n])]))
    for (const n of names) (wasm.get(n) as Float32Array).set(given.get(n) as Float32Array)
    if (direction === 'forward') {
      k.forward(B, H, Object.fromEntries(ts) as unknown as ForwardRows, true)
      arena.forward(B, H, Object.fromEntries(wasm) as unknown as ForwardRows<Float32Array>)
    } else {
      k.backward(B, H, Object.fromEntries(ts) as unknown as BackwardRows, true)
      arena.backward(B, H, Object.fromEntries(wasm) as unknown as BackwardRows<Float32Array>)
    }
    for (const n of outputs) {
      const want = ts.get(n) as Float64Array
      const got = wasm.get(n) as Float32Array
      // Float32 tolerance on the row's scale: a product of a few float32 factors (up to ~500
      // here) carries the activations' few-ulp differences, and a sum that cancels (LSTM's dc + ...) magnifies them.
      let scale = 1
      for (const v of want) if (Math.abs(v) > scale) scale = Math.abs(v)
      for (let i = 0; i < want.length; i++) {
        const where = `${direction} ${n}[${i}] (B=${B}, H=${H})`
        if (Number.isNaN(want[i])) expect(got[i], where).toBeNaN()
        else expect(Math.abs(got[i] - want[i]), `${where}: ${got[i]} vs ${want[i]}`).toBeLessThanOrEqual(1e-5 * scale)
      }
    }
  } finally {
    arena.release()
  }
}

describe('WASM cell kernels = the TypeScript kernels (float32 activations)', () => {
  CELLS.forEach(([name, k], c) => {
    for (const direction of ['forward', 'backward'] as const) {
      it(`${name} ${direction}, random B and H, clamp region`, () => {
        fc.assert(
          fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
            const s = new CaseSampler(seed)
            const B = s.coin(0.2) ? 1 : s.int(1, 5)
            const H = s.coin(0.2) ? 1 : s.int(1, 19)
            compareStep(k, B, H, direction, s, false)
          }),
          { seed: 1300 + 2 * c + (direction === 'forward' ? 0 : 1), numRuns: 60 },
        )
      })
      it(`${name} ${direction}: NaN propagates as in the reference`, () => {
        fc.assert(
          fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
            const s = new CaseSampler(seed)
            compareStep(k, s.int(1, 3), s.int(1, 9), direction, s, true)
          }),
          { seed: 1400 + 2 * c + (direction === 'forward' ? 0 : 1), numRuns: 40 },
        )
      })
    }
  })

  it('a whole-vector H and a tail at once: H = 4, 5, 8 and 1031 on B = 2', () => {
    const s = new CaseSampler(7)
    for (const [, k] of CELLS) for (const H of [4, 5, 8, 1031]) for (const d of ['forward', 'backward'] as const) compareStep(k, 2, H, d, s, false)
  })
})
