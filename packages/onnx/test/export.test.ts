// Models exported with exportOnnx, loaded in onnxruntime-node, and compared with graphgrad's
// outputs (1e-5 relative, float32); plus the refusals, each a clear error.
import {
  type Tensor,
  add,
  concat,
  customOp,
  gelu,
  logSoftmax,
  matmul,
  mean,
  randn,
  slice,
  sum,
  tanh,
  tensor,
  where,
  greater,
  maximum,
  argmax,
  oneHot,
  clamp,
  leakyRelu,
  softplus,
  pad,
  split,
  permute,
  gather,
  astype,
  avgPool1d,
  conv1d,
  maxPool1d,
} from '@graphgrad/core'
import { type Params, batchNorm2d, conv2d as conv2dLayer, groupNorm, layerNorm, linear, lstm, transformerEncoderLayer } from '@graphgrad/layers'
import { OrderedMap } from 'immutable'
import { describe, expect, it } from 'vitest'
import { exportOnnx } from '../src/index.ts'
import { maxRelDiff, runOrt } from './helpers.ts'

const TOL = 1e-5

/** A map's entry, which the test knows is there. */
const get = <T>(p: { get(k: string): T | undefined }, k: string): T => p.get(k) as T

/** Exports `f` at `inputs`, runs the model in ORT on `feeds` (default the same inputs), and returns the largest relative difference per output. */
async function compare<P>(
  name: string,
  f: (p: P, ...xs: Tensor[]) => Tensor | Record<string, Tensor>,
  params: P,
  inputs: Tensor[],
  options: Parameters<typeof exportOnnx>[3] = {},
  feeds: Tensor[] = inputs,
): Promise<number> {
  const bytes = exportOnnx(f, params, inputs, options)
  const names = inputs.map((_, i) => options.inputNames?.[i] ?? `input_${i}`)
  const got = await runOrt(bytes, Object.fromEntries(names.map((n, i) => [n, feeds[i]])))
  const want = f(params, ...feeds)
  const wanted: Record<string, Tensor> = want instanceof Object && !('shape' in want) ? want : { output: want as Tensor }
  let worst = 0
  for (const [k, t] of Object.entries(wanted)) worst = Math.max(worst, maxRelDiff(got[k], t))
  console.log(`onnx ${name}: largest relative difference from graphgrad ${worst.toExponential(2)} (${bytes.length} bytes)`)
  return worst
}

describe("exported models run in onnxruntime-node with graphgrad's numbers", () => {
  it('an MLP (linear, tanh, linear, logSoftmax)', async () => {
    const l1 = linear({ inFeatures: 6, outFeatures: 16 })
    const l2 = linear({ inFeatures: 16, outFeatures: 4 })
    const params = OrderedMap({ l1: l1.init(1), l2: l2.init(2) })
    const f = (p: typeof params, x: Tensor): Tensor => logSoftmax(l2.apply(get(p, 'l2'), tanh(l1.apply(get(p, 'l1'), x))), -1)
    expect(await compare('MLP', f, params, [randn([5, 6], 3)])).toBeLessThan(TOL)
  })

  it('layerNorm over the last axis, with gelu', async () => {
    const norm = layerNorm({ normalizedShape: 8 })
    const params = OrderedMap({ w: randn([8], 4).add(1), b: randn([8], 5) })
    const f = (p: typeof params, x: Tensor): Tensor => gelu(norm.apply(OrderedMap({ weight: get(p, 'w'), bias: get(p, 'b') }), x))
    expect(await compare('layerNorm', f, params, [randn([3, 4, 8], 6)])).toBeLessThan(TOL)
  })

  it('a model mixing broadcasting, reductions, slicing, concat, split, pad, where, gather and the unary ops', async () => {
    const params = OrderedMap({ w: randn([4, 3], 7), b: randn([3], 8) })
    const index = tensor(
      [
        [0, 2, 1],
        [3, 0, 0],
      ],
      { dtype: 'int32' },
    )
    const f = (p: typeof params, x: Tensor): Tensor => {
      const h = add(matmul(x, get(p, 'w')), get(p, 'b')) // [2,5,3] (batch-broadcast matmul)
      const centred = h.sub(mean(h, [1], true)) // broadcasting a reduction
      const edges = concat([slice(centred, [null, { start: 0, stop: 2 }]), slice(centred, [null, -1]).reshape([2, 1, 3])], 1)
      const [a, b] = split(edges, [1, 2], 1)
      const mixed = where(greater(a, 0), leakyRelu(a, 0.1), softplus(a, { beta: 2 })).add(clamp(sum(b, 1, true), -0.5, 0.5))
      const wide = pad(
        permute(mixed, [0, 2, 1]),
        [
          [0, 0],
          [1, 0],
          [0, 2],
        ],
        0.25,
      ) // [2,4,3]
      const picked = gather(wide.reshape([2, 12]), 1, index) // [2,3]
      const hot = oneHot(argmax(picked, 1), 3) // [2,3]
      return maximum(picked, hot.mul(0.1)).add(sum(x, [1, 2]).reshape([2, 1]))
    }
    expect(await compare('mixed', f, params, [randn([2, 5, 4], 9)])).toBeLessThan(TOL)
  })

  it('dynamic axes: exported at batch 2, sequence 5, runs at batch 7, sequence 40', async () => {
    const head = linear({ inFeatures: 4, outFeatures: 3 })
    const params = OrderedMap({ head: head.init(10) })
    // Flattening and unflattening batch and sequence, a slice from the end, a mean over the sequence.
    const f = (p: typeof params, x: Tensor): Record<string, Tensor> => {
      const [B, T] = x.shape
      const flat = head.apply(get(p, 'head'), x.reshape([B * T, 4])).reshape([B, T, 3])
      return { logits: flat, last: slice(flat, [null, -1]), pooled: mean(flat, 1) }
    }
    const options = { inputNames: ['x'], dynamicAxes: { x: { 0: 'batch', 1: 'seq' }, logits: { 0: 'batch', 1: 'seq' } } }
    expect(await compare('dynamic axes', f, params, [randn([2, 5, 4], 11)], options, [randn([7, 40, 4], 12)])).toBeLessThan(TOL)
  })
  it('a float64 model of ops ONNX Runtime has double kernels for runs in float64 (an MLP with a max pool and an average pool)', async () => {
    const w = astype(randn([4, 8], 5), 'float64')
    const f = (p: Tensor, x: Tensor): Tensor => avgPool1d(maxPool1d(tanh(matmul(x, p)).reshape([2, 1, 8]), { kernelSize: 2 }), { kernelSize: 2 })
    expect(await compare('float64 MLP with pools', f, w, [astype(randn([2, 4], 6), 'float64')])).toBeLessThan(1e-12)
  })
})

describe('layers built on attention and normalisation', () => {
  it('a transformer encoder layer (causal self-attention, gelu, norm first) with a key padding mask input, at another batch size', async () => {
    const layer = transformerEncoderLayer({ dModel: 8, nhead: 2, dimFeedforward: 16, activation: 'gelu', normFirst: true, batchFirst: true })
    const params = OrderedMap({ enc: layer.init(21) })
    const f = (p: typeof params, x: Tensor, padding: Tensor): Tensor => layer.apply(get(p, 'enc'), x, { isCausal: true, srcKeyPaddingMask: padding })
    const pad = (B: number): Tensor =>
      tensor(
        Int32Array.from({ length: B * 5 }, (_, i) => (i % 5 === 4 && i % 2 === 1 ? 1 : 0)),
        { shape: [B, 5] },
      )
    const options = { inputNames: ['x', 'padding'], dynamicAxes: { x: { 0: 'batch' }, padding: { 0: 'batch' }, output: { 0: 'batch' } } }
    expect(await compare('transformer encoder layer', f, params, [randn([2, 5, 8], 22), pad(2)], options, [randn([3, 5, 8], 23), pad(3)])).toBeLessThan(TOL)
  })

  it('a conv2d layer, batchNorm2d in evaluation and groupNorm', async () => {
    const conv = conv2dLayer({ inChannels: 3, outChannels: 4, kernelSize: 3, padding: 1 })
    const bn = batchNorm2d({ numFeatures: 4 })
    const gn = groupNorm({ numGroups: 2, numChannels: 4 })
    const params = OrderedMap({ conv: conv.init(24), bn: bn.init(25), gn: gn.init(26) })
    // Running statistics from one training call, then used in evaluation (constants of the graph).
    const { state } = bn.apply(get(params, 'bn'), randn([4, 4, 6, 6], 28).mul(2).add(1), { train: true, state: bn.initState() })
    const f = (p: typeof params, x: Tensor): Tensor => gn.apply(get(p, 'gn'), bn.apply(get(p, 'bn'), conv.apply(get(p, 'conv'), x), { state }).output)
    expect(await compare('conv, batchNorm, groupNorm', f, params, [randn([2, 3, 6, 6], 27)])).toBeLessThan(TOL)
  })
})

describe('refusals', () => {
  it('an op with no ONNX mapping, by name', () => {
    const twice = customOp({ name: 'myTwice', forward: (x) => x.mul(2), vjp: (g) => [g.mul(2)] })
    expect(() => exportOnnx((w: Tensor, x: Tensor) => twice(x.mul(w)), randn([3], 1), [randn([3], 2)])).toThrow(/the op 'myTwice' .*has no ONNX mapping/)
  })

  it('an output that depends on no input or parameter', () => {
    expect(() => exportOnnx((_w: Tensor, _x: Tensor) => tensor([1, 2]), randn([3], 1), [randn([3], 2)])).toThrow(/does not depend on any input or parameter/)
  })

  it('an input no output depends on, by name', () => {
    const f = (w: Tensor, x: Tensor, _mask: Tensor, y: Tensor): Tensor => x.mul(w).add(y)
    expect(() => exportOnnx(f, randn([3], 1), [randn([3], 2), randn([2, 3], 3), randn([3], 4)], { inputNames: ['x', 'mask', 'y'] })).toThrow(
      "exportOnnx: no output depends on the input 'mask' (input 1 of 3, shape [2, 3]); remove it from the function's inputs, or use it",
    )
  })

  it('a float64 graph that needs an ONNX op ONNX Runtime has no float64 kernel for (LSTM, Conv, Erf, Softplus), naming both ops', () => {
    const layer = lstm({ inputSize: 2, hiddenSize: 3 })
    const p64: Params = layer.init(0).map((t) => astype(t as Tensor, 'float64'))
    const x64 = astype(randn([4, 1, 2], 1), 'float64')
    expect(() => exportOnnx((p: Params, x: Tensor) => layer.apply(p, x).output, p64, [x64])).toThrow(
      /exportOnnx: lstmScan is float64 here, and ONNX Runtime has no float64 kernel for ONNX's LSTM; export a float32 model .*\(node \d+ of the traced graph, op 'lstmScan'/,
    )
    const w64 = astype(randn([2, 1, 3], 2), 'float64')
    expect(() => exportOnnx((w: Tensor, x: Tensor) => conv1d(x, w), w64, [astype(randn([1, 1, 5], 3), 'float64')])).toThrow(
      /conv2d is float64 here, .*ONNX's Conv/,
    )
    expect(() => exportOnnx((w: Tensor, x: Tensor) => gelu(x.mul(w)), randn([3], 1).astype('float64'), [randn([3], 2).astype('float64')])).toThrow(/ONNX's Erf/)
    // The same models in float32 export.
    expect(exportOnnx((p: Params, x: Tensor) => layer.apply(p, x).output, layer.init(0), [randn([4, 1, 2], 1)]).length).toBeGreaterThan(0)
  })

  it('a causal attention along a dynamic sequence axis (its mask is a constant of the sequence length), once named', () => {
    const layer = transformerEncoderLayer({ dModel: 4, nhead: 1, dimFeedforward: 8, batchFirst: true })
    const f = (p: Params, x: Tensor): Tensor => layer.apply(p, x, { isCausal: true })
    let message = ''
    try {
      exportOnnx(f, layer.init(0), [randn([2, 5, 4], 1)], { dynamicAxes: { input_0: { 1: 'seq' } } })
    } catch (e) {
      message = (e as Error).message
    }
    expect(message).toMatch(
      /^exportOnnx: a constant of shape \[5, 5\] .*changes size with a dynamic axis and is not uniform.*\(node \d+ of the traced graph, op 'add'/,
    )
    expect(message.match(/exportOnnx:/g)).toHaveLength(1)
    // At a fixed sequence length, with the batch dynamic, it exports.
    expect(exportOnnx(f, layer.init(0), [randn([2, 5, 4], 1)], { dynamicAxes: { input_0: { 0: 'batch' } } }).length).toBeGreaterThan(0)
  })

  it('an opset other than 17', () => {
    expect(() => exportOnnx((w: Tensor, x: Tensor) => x.mul(w), randn([3], 1), [randn([3], 2)], { opset: 18 })).toThrow(/opset 18 is not written/)
  })

  it('a loop over a dynamic axis (the graph changes with its size)', () => {
    const f = (w: Tensor, x: Tensor): Tensor => {
      let acc = x.select(1, 0)
      for (let t = 1; t < x.shape[1]; t++) acc = acc.add(x.select(1, t).mul(w))
      return acc
    }
    expect(() => exportOnnx(f, randn([3], 1), [randn([2, 4, 3], 2)], { dynamicAxes: { input_0: { 1: 'seq' } } })).toThrow(
      /changes with the size of a dynamic axis/,
    )
  })
})
