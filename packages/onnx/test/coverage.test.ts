// Every registered core op is mapped to ONNX, recorded as mapped primitives (a composite), or
// refused with a reason; and every op with a gradient-check spec, in a small graph of its own
// over the spec's random shapes (in float32), runs in onnxruntime-node with graphgrad's numbers.
import {
  CaseSampler,
  type Tensor,
  argmax,
  argmin,
  astype,
  equal,
  greater,
  greaterEqual,
  hasGradient,
  less,
  lessEqual,
  notEqual,
  oneHot,
  randn,
  registeredOps,
  sign,
} from '@graphgrad/core'
import { describe, expect, it } from 'vitest'
import { MAPPED_OPS, UNSUPPORTED_OPS, exportOnnx } from '../src/index.ts'
import { maxRelDiff, runOrt } from './helpers.ts'

const TOL = 1e-5
const CASES_PER_OP = 3

describe('op coverage', () => {
  it('every registered core op is mapped, a composite of mapped ops, or refused with a reason', () => {
    const missing = registeredOps()
      .filter((e) => e.kind === 'primitive' && !MAPPED_OPS.includes(e.name) && UNSUPPORTED_OPS[e.name] === undefined)
      .map((e) => e.name)
    expect(missing).toEqual([])
    for (const [name, reason] of Object.entries(UNSUPPORTED_OPS)) expect(reason.length, name).toBeGreaterThan(10)
  })

  /** Exports `fn` of float32 `inputs`, runs it in ORT, and returns the largest relative difference. */
  async function roundTrip(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): Promise<number> {
    const bytes = exportOnnx((_p: readonly Tensor[], ...xs: Tensor[]) => fn(...xs), [], inputs)
    const got = await runOrt(bytes, Object.fromEntries(inputs.map((x, i) => [`input_${i}`, x])))
    return maxRelDiff(got.output, fn(...inputs))
  }

  const entries = registeredOps()
  for (const e of entries) {
    const spec = e.spec
    if (!hasGradient(spec)) continue
    it(`${e.name} (${e.kind}): ${UNSUPPORTED_OPS[e.name] === undefined ? "runs in onnxruntime-node with graphgrad's numbers" : 'is refused by name'}`, async () => {
      for (let k = 0; k < CASES_PER_OP; k++) {
        const c = spec.sample(new CaseSampler(1000 + k))
        const inputs = c.inputs.map((x) => astype(x, 'float32'))
        if (UNSUPPORTED_OPS[e.name] !== undefined) {
          expect(() => exportOnnx((_p: readonly Tensor[], ...xs: Tensor[]) => c.fn(...xs), [], inputs)).toThrow(/is not exported: /)
          return
        }
        const diff = await roundTrip(c.fn, inputs)
        expect(diff, `${e.name} ${c.label}`).toBeLessThan(TOL)
      }
    })
  }

  it('the ops without a gradient (comparisons, sign, argmax/argmin, oneHot) in small graphs of their own', async () => {
    const a = randn([3, 4], 1)
    const b = randn([4], 2)
    for (const op of [equal, notEqual, less, lessEqual, greater, greaterEqual]) {
      expect(await roundTrip((x, y) => op(x, y).mul(x), [a, b]), op.name).toBeLessThan(TOL)
      expect(await roundTrip((x) => op(x, x.select(0, 1)).mul(x), [a]), `${op.name} with a tie`).toBeLessThan(TOL)
    }
    expect(await roundTrip((x) => sign(x).add(x), [a])).toBeLessThan(TOL)
    expect(await roundTrip((x) => astype(argmax(x, 1), 'float32').add(x.sum(1)), [a])).toBeLessThan(TOL)
    expect(await roundTrip((x) => astype(argmin(x, 0, true), 'float32').add(x), [a])).toBeLessThan(TOL)
    expect(await roundTrip((x) => astype(argmax(x), 'float32').add(x), [a])).toBeLessThan(TOL)
    expect(await roundTrip((x) => oneHot(argmax(x, 1), 5).add(x.sum()), [a])).toBeLessThan(TOL)
  })
})
