// Gradients (against central differences, and of higher order), the PyTorch fixture, and the
// errors of slice, select, concat, stack, split and pad.
import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { existsSync, readFileSync } from 'node:fs'
import {
  ArgumentError,
  CaseSampler,
  GraphgradError,
  ShapeError,
  Tensor,
  arange,
  grad,
  jvp,
  loadSafetensors,
  mul,
  registeredOps,
  sum,
  tensor,
  valueAndGrad,
} from '@graphgrad/core'
import type { TensorTree } from '@graphgrad/core'
import { type SliceArg, pad, select, slice } from '../src/ops/slice.ts'
import { concat, split, stack } from '../src/ops/join.ts'
import { checkVjp as checkVjpFd, sizeOf } from '../../../testdata/testing.ts'
import { distinct, expectValues, slicedArb } from './slice-helpers.ts'

/** Deterministic pseudo-random float64 values in [-1, 1). */
function noise(shape: readonly number[], seed: number): Tensor {
  let s = (seed * 2654435761) >>> 0 || 1
  const data = Float64Array.from({ length: sizeOf(shape) }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return (s / 2 ** 32) * 2 - 1
  })
  return tensor(data, { shape })
}

function asTensor(t: TensorTree): Tensor {
  if (!(t instanceof Tensor)) throw new Error('expected a tensor gradient')
  return t
}

/** Finite-difference check of the VJP of `f` with this file's cotangent (`noise`) and tolerances. */
function checkVjp(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], seed = 1, h = 1e-4, tol = 1e-7): void {
  expect(checkVjpFd(f, inputs, { cotangent: (shape) => noise(shape, seed), eps: h, atol: tol, rtol: tol })).toBeNull()
}

function expectThrows(fn: () => unknown, cls: new (...args: never[]) => Error, message: string): void {
  expect(fn).toThrow(cls)
  expect(fn).toThrow(message)
}

// ---------- gradients ----------

describe('gradients against central differences (float64)', () => {
  it('slice, with random steps and indices', () => {
    fc.assert(
      fc.property(slicedArb(1), fc.integer(), ({ shape, spec }, seed) => {
        checkVjp((t) => slice(t, spec), [noise(shape, seed)], seed)
      }),
      { numRuns: 60 },
    )
  })

  it('select, concat, stack, split and pad', () => {
    const a = noise([2, 3, 4], 1)
    const b = noise([2, 1, 4], 2)
    const c = noise([2, 2, 4], 3)
    checkVjp((t) => select(t, 1, -1), [a])
    checkVjp((x, y, z) => concat([x, y, z], 1), [a, b, c])
    checkVjp((x, y) => concat([x, y], -1), [noise([3, 2], 4), noise([3, 5], 5)])
    checkVjp((x, y) => stack([x, y], 2), [a, noise([2, 3, 4], 6)])
    checkVjp(
      (x) =>
        concat(
          split(x, [1, 0, 3], 2).map((p, i) => mul(p, i + 2)),
          2,
        ),
      [noise([2, 3, 4], 7)],
    )
    checkVjp(
      (x) =>
        concat(
          split(x, 2, 1).map((p, i) => mul(p, i - 1.5)),
          1,
        ),
      [noise([2, 5], 8)],
    )
    checkVjp(
      (x) =>
        pad(
          x,
          [
            [1, 0],
            [2, 3],
          ],
          0.5,
        ),
      [noise([2, 3, 2], 9)],
    )
  })

  it('concat sends the gradient back in each input dtype', () => {
    const f = tensor([[1, 2]], { dtype: 'float32' })
    const d = tensor([[3, 4, 5]], { dtype: 'float64' })
    const [ga, gb] = (
      grad((x: Tensor, y: Tensor) => sum(mul(concat([x, y], 1), arange(5, undefined, 1, { dtype: 'float64' }))), {
        argnums: [0, 1],
      })(f, d) as TensorTree[]
    ).map(asTensor)
    expect(ga.dtype).toBe('float32')
    expect(ga.toArray()).toEqual([[0, 1]])
    expect(gb.toArray()).toEqual([[2, 3, 4]])
  })

  it('every registered slice/join spec passes the local check', () => {
    const names = ['slice', 'select', 'pad', 'concat', 'stack', 'split']
    const entries = registeredOps().filter((e) => names.includes(e.name))
    expect(entries.map((e) => `${e.name}:${e.kind}`).sort()).toEqual([
      'concat:primitive',
      'pad:primitive',
      'select:composite',
      'slice:primitive',
      'split:primitive',
      'stack:composite',
    ])
    for (const e of entries) {
      if (!('sample' in e.spec)) throw new Error(`${e.name} has no gradient spec`)
      for (let seed = 0; seed < 25; seed++) {
        const c = e.spec.sample(new CaseSampler(seed))
        expect(c.inputs.every((x) => x.dtype === 'float64')).toBe(true)
        expect(c.fn(...c.inputs).size).toBeGreaterThan(0)
        checkVjp(c.fn, c.inputs, seed)
      }
    }
  })
})

describe('higher derivatives', () => {
  const spec: SliceArg[] = [
    { start: -1, stop: 0, step: -2 },
    { start: 1, stop: 6, step: 2 },
  ]
  const x = noise([5, 7], 11)
  const v = noise([5, 7], 12)
  const taken = (): boolean[] => {
    const picked = new Set(Array.from(slice(distinct([5, 7], 'int32'), spec)._data))
    return Array.from({ length: 35 }, (_, i) => picked.has(i))
  }

  it('grad of sum(slice(x)^3) and its second derivative', () => {
    const f = (t: Tensor): Tensor => sum(slice(t, spec).pow(3))
    const g1 = asTensor(grad(f)(x) as TensorTree)
    const mask = taken()
    expect(Array.from(g1._data)).toEqual(mask.map((m, i) => (m ? 3 * x._data[i] ** 2 : 0)))
    const hv = asTensor(grad((t: Tensor) => sum(mul(asTensor(grad(f)(t) as TensorTree), v)))(x) as TensorTree)
    hv._data.forEach((h, i) => expect(h).toBeCloseTo(mask[i] ? 6 * x._data[i] * v._data[i] : 0, 12))
    // The same Hessian-vector product against differences of the first gradient.
    checkVjp((t) => asTensor(grad(f)(t) as TensorTree), [x], 3, 1e-5, 1e-6)
  })

  it('third derivative and jvp go through the scatter and back', () => {
    const f = (t: Tensor): Tensor => sum(slice(t, spec).pow(3))
    const inner = (t: Tensor): Tensor => sum(mul(asTensor(grad(f)(t) as TensorTree), v))
    const third = asTensor(grad((t: Tensor) => sum(mul(asTensor(grad(inner)(t) as TensorTree), v)))(x) as TensorTree)
    const mask = taken()
    third._data.forEach((h, i) => expect(h).toBeCloseTo(mask[i] ? 6 * v._data[i] ** 2 : 0, 12))
    const [y, tangent] = jvp((t: Tensor) => slice(t, spec), [x], [v])
    expectValues(y, [2, 3], slice(x, spec)._data)
    expectValues(tangent, [2, 3], slice(v, spec)._data)
  })

  it('second derivatives through pad and concat', () => {
    const a = noise([2, 3], 21)
    const b = noise([2, 2], 22)
    checkVjp(
      (t) =>
        asTensor(
          grad((s: Tensor) =>
            sum(
              pad(
                s,
                [
                  [1, 1],
                  [0, 2],
                ],
                3,
              ).pow(3),
            ),
          )(t) as TensorTree,
        ),
      [a],
      4,
      1e-5,
      1e-6,
    )
    checkVjp((s, t) => asTensor(grad((u: Tensor) => sum(concat([u, t], 1).pow(3)))(s) as TensorTree), [a, b], 5, 1e-5, 1e-6)
  })
})

// The public fixture by name; reference-ops.test.ts runs whatever ops cases the manifest has.
const ops60 = new URL('../../../testdata/reference/ops_60_cat_slice_step.safetensors', import.meta.url)

describe.runIf(existsSync(ops60))('reference: ops_60_cat_slice_step', () => {
  it('matches PyTorch for output, grad.a and grad.b', () => {
    const bytes = readFileSync(ops60)
    const ref = loadSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength))
    const get = (name: string): Tensor => {
      const t = ref.get(name)
      if (t === undefined) throw new Error(`missing ${name}`)
      return t
    }
    const model = (a: Tensor, b: Tensor): Tensor => {
      const c = concat([a, b], 1)
      return mul(slice(c, [null, { start: 1, stop: 6 }]), slice(c, [null, { start: 0, stop: 9, step: 2 }]))
    }
    const output = model(get('a'), get('b'))
    const [, grads] = valueAndGrad((a: Tensor, b: Tensor) => sum(mul(model(a, b), get('r_output'))), { argnums: [0, 1] })(get('a'), get('b'))
    const [ga, gb] = (grads as TensorTree[]).map(asTensor)
    const close = (got: Tensor, want: Tensor): void => {
      expect(got.shape).toEqual(want.shape)
      expect(got.dtype).toBe('float64')
      want._data.forEach((w, i) => expect(Math.abs(got._data[i] - w)).toBeLessThanOrEqual(1e-10 + 1e-8 * Math.abs(w)))
    }
    close(output, get('output'))
    close(ga, get('grad.a'))
    close(gb, get('grad.b'))
  })
})

// ---------- errors ----------

describe('errors', () => {
  const x = distinct([2, 3])

  it('slice', () => {
    expectThrows(() => slice(x, [null, { step: 0 }]), ArgumentError, 'slice: step of axis 1 must not be zero')
    expectThrows(() => slice(x, [null, 3]), ArgumentError, 'slice: index 3 is out of range for axis 1 of size 3')
    expectThrows(() => slice(x, [-3]), ArgumentError, 'slice: index -3 is out of range for axis 0 of size 2')
    expectThrows(() => slice(x, [0, 0, 0]), ArgumentError, 'slice: 3 entries given for a tensor of rank 2 ([2,3])')
    expectThrows(() => slice(x, [0.5]), ArgumentError, 'slice: index for axis 0 must be an integer, got 0.5')
    expectThrows(() => slice(x, [null, { start: 1.5 }]), ArgumentError, 'slice: start of axis 1 must be an integer, got 1.5')
    expectThrows(() => slice(x, [{ stop: Number.NaN }]), ArgumentError, 'slice: stop of axis 0 must be an integer, got NaN')
    expectThrows(() => slice(x, [{ step: 0.5 }]), ArgumentError, 'slice: step of axis 0 must be an integer, got 0.5')
    expectThrows(() => slice(x, 1 as unknown as SliceArg[]), ArgumentError, 'slice: the spec must be an array with one entry per leading axis, got 1')
    expectThrows(() => slice([1] as unknown as Tensor, []), GraphgradError, 'slice: input must be a Tensor, got object')
  })

  it('select', () => {
    expectThrows(() => select(x, 1, 3), ArgumentError, 'select: index 3 is out of range for axis 1 of size 3')
    expectThrows(() => select(x, -1, -4), ArgumentError, 'select: index -4 is out of range for axis 1 of size 3')
    expectThrows(() => select(x, 2, 0), ArgumentError, 'select: axis 2 is out of range for a tensor of rank 2')
    expectThrows(() => select(tensor(1), 0, 0), ArgumentError, 'select: cannot select from a scalar (shape [])')
  })

  it('concat', () => {
    const y = distinct([2, 4])
    expectThrows(() => concat([]), ArgumentError, 'concat: expected at least one tensor, got an empty array')
    expectThrows(() => concat([x, 1 as unknown as Tensor]), GraphgradError, 'concat: tensor 1 must be a Tensor, got number')
    expectThrows(() => concat([x, tensor(1)]), ShapeError, 'concat: tensor 1 is a scalar (shape []), which cannot be concatenated; unsqueeze it or use stack')
    expectThrows(
      () => concat([x, y, distinct([2, 3, 1])], 1),
      ShapeError,
      'concat: tensor 2 has shape [2,3,1] of rank 3, but tensor 0 has shape [2,3] of rank 2',
    )
    expectThrows(
      () => concat([x, y], 0),
      ShapeError,
      'concat: cannot join tensor 1 of shape [2,4] to tensor 0 of shape [2,3] along axis 0: dimension 1 is 4 vs 3',
    )
    expectThrows(() => concat([x, y], 2), ArgumentError, 'concat: axis 2 is out of range for a tensor of rank 2')
  })

  it('stack', () => {
    expectThrows(() => stack([x, x, distinct([3, 2])]), ShapeError, 'stack: tensor 2 has shape [3,2] but tensor 0 has shape [2,3]; all shapes must match')
    expectThrows(() => stack([]), ArgumentError, 'stack: expected at least one tensor, got an empty array')
    expectThrows(() => stack([x], 3), ArgumentError, 'stack: axis 3 is out of range for a tensor of rank 3')
  })

  it('split', () => {
    expectThrows(() => split(x, 0), ArgumentError, 'split: piece size must be a positive integer, got 0')
    expectThrows(() => split(x, 1.5), ArgumentError, 'split: piece size must be a positive integer, got 1.5')
    expectThrows(() => split(x, [1, 1], 1), ArgumentError, 'split: sizes [1,1] sum to 2, but axis 1 of [2,3] has size 3')
    expectThrows(() => split(x, [3, -1], 1), ArgumentError, 'split: sizes [3,-1] must be non-negative integers')
    expectThrows(() => split(tensor(1), 1), ArgumentError, 'split: cannot split a scalar (shape [])')
    expectThrows(() => split(x, 1, -3), ArgumentError, 'split: axis -3 is out of range for a tensor of rank 2')
  })

  it('pad', () => {
    expectThrows(() => pad(x, [[0, -1]]), ArgumentError, 'pad: widths for axis 0 must be two non-negative integers [before, after], got [0,-1]')
    expectThrows(
      () =>
        pad(x, [
          [0, 0],
          [1.5, 0],
        ]),
      ArgumentError,
      'pad: widths for axis 1 must be two non-negative integers [before, after], got [1.5,0]',
    )
    expectThrows(
      () => pad(x, [[0, 0], [1] as unknown as [number, number]]),
      ArgumentError,
      'pad: widths for axis 1 must be two non-negative integers [before, after], got [1]',
    )
    expectThrows(
      () =>
        pad(x, [
          [0, 0],
          [0, 0],
          [0, 0],
        ]),
      ArgumentError,
      'pad: 3 width pairs given for a tensor of rank 2 ([2,3])',
    )
  })
})
