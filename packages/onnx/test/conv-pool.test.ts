// Convolution and pooling exported as Conv, MaxPool and AveragePool (and the adaptive averages
// as window-matrix products), run in onnxruntime-node on other inputs than the ones exported
// (a max pool's indices depend on the values) and at other batch sizes, against graphgrad.
import {
  CaseSampler,
  type Tensor,
  adaptiveAvgPool1d,
  adaptiveAvgPool2d,
  astype,
  avgPool1d,
  avgPool2d,
  conv1d,
  conv2d,
  maxPool1d,
  maxPool2d,
  randn,
  registeredOps,
  relu,
} from '@graphgrad/core'
import { describe, expect, it } from 'vitest'
import { exportOnnx } from '../src/index.ts'
import { maxRelDiff, runOrt } from './helpers.ts'

const TOL = 1e-5
const CASES = 40

/** The same shape, other values: a fresh draw from `seed`. */
const redraw = (x: Tensor, seed: number): Tensor => randn(x.shape.slice(), seed)

let worst = 0
/** Exports `fn` at `inputs`, runs ORT on `feeds`, returns the largest relative difference from graphgrad on the feeds. */
async function roundTrip(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], feeds: Tensor[], dynamicAxes = {}): Promise<number> {
  const bytes = exportOnnx((_p: readonly Tensor[], ...xs: Tensor[]) => fn(...xs), [], inputs, { dynamicAxes })
  const got = await runOrt(bytes, Object.fromEntries(feeds.map((x, i) => [`input_${i}`, x])))
  const diff = maxRelDiff(got.output, fn(...feeds))
  worst = Math.max(worst, diff)
  return diff
}

describe('convolution and pooling in onnxruntime-node', () => {
  // The gradient-check specs' random cases: strides, padding ('same' too), dilation, groups, ceil mode, count_include_pad, unbatched inputs.
  for (const name of ['conv1d', 'conv2d', 'maxPool1d', 'maxPool2d', 'avgPool1d', 'avgPool2d', 'adaptiveAvgPool1d', 'adaptiveAvgPool2d']) {
    it(`${name}: ${CASES} random cases, run on other values than exported`, async () => {
      const entry = registeredOps().find((e) => e.name === name)
      if (entry === undefined || !('sample' in entry.spec)) throw new Error(`${name} has no gradient-check spec`)
      for (let k = 0; k < CASES; k++) {
        const c = entry.spec.sample(new CaseSampler(5000 + k))
        const inputs = c.inputs.map((x) => astype(x, 'float32'))
        const feeds = inputs.map((x, i) => redraw(x, 9000 + 10 * k + i))
        expect(await roundTrip(c.fn, inputs, feeds), `${name} ${c.label}`).toBeLessThan(TOL)
      }
    })
  }

  it('a small CNN (conv2d, relu, maxPool2d, conv1d over rows, avgPool1d, adaptiveAvgPool2d) exported at batch 2 runs at batch 5', async () => {
    const w1 = randn([4, 3, 3, 3], 1)
    const w2 = randn([2, 4, 2], 2)
    const bias = randn([4], 3)
    const cnn = (x: Tensor): Tensor => {
      const h = maxPool2d(relu(conv2d(x, w1, bias, { padding: 1 })), { kernelSize: 2, ceilMode: true }) // [B, 4, 5, 5]
      const rows = h.permute([0, 2, 1, 3]).reshape([-1, 4, 5]) // [B*5, 4, 5]
      const c1 = avgPool1d(conv1d(rows, w2, null, { padding: 'same' }), { kernelSize: 2, stride: 1 }) // [B*5, 2, 4]
      return adaptiveAvgPool2d(c1.reshape([-1, 5, 2, 4]), [3, 2])
    }
    const axes = { input_0: { 0: 'batch' } }
    expect(await roundTrip(cnn, [randn([2, 3, 9, 9], 4)], [randn([5, 3, 9, 9], 5)], axes)).toBeLessThan(TOL)
    expect(
      await roundTrip((x) => adaptiveAvgPool1d(maxPool1d(x, { kernelSize: 3, stride: 2, padding: 1 }), 2), [randn([2, 3, 8], 6)], [randn([6, 3, 8], 7)], axes),
    ).toBeLessThan(TOL)
    expect(
      await roundTrip(
        (x) => avgPool2d(x, { kernelSize: [2, 3], countIncludePad: false, padding: [1, 1] }),
        [randn([2, 2, 5, 7], 8)],
        [randn([3, 2, 5, 7], 9)],
        axes,
      ),
    ).toBeLessThan(TOL)
    console.log(`onnx conv and pooling: largest relative difference from graphgrad ${worst.toExponential(2)}`)
  })

  it('a strided convolution along a dynamic axis is refused, naming the op', () => {
    const w = randn([2, 3, 3], 1)
    expect(() =>
      exportOnnx((_p: readonly Tensor[], x: Tensor) => conv1d(x, w, null, { stride: 2 }), [], [randn([1, 3, 9], 2)], {
        dynamicAxes: { input_0: { 2: 'len' } },
      }),
    ).toThrow(/conv2d: a strided convolution along a dynamic axis is not exported/)
  })
})
