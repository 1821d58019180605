// The recurrent layers exported as ONNX LSTM, GRU and RNN nodes, run in onnxruntime-node and
// compared with graphgrad (1e-5 relative): the character LM with its state in and out (also at
// other batch and sequence sizes than exported), GRU, RNN tanh and relu, and a bidirectional
// two-layer LSTM with lengths.
import { type Tensor, randint, randn } from '@graphgrad/core'
import { type Params, embedding, gru, linear, lstm, rnn } from '@graphgrad/layers'
import { OrderedMap } from 'immutable'
import { describe, expect, it } from 'vitest'
import { type ExportOptions, exportOnnx } from '../src/index.ts'
import { maxRelDiff, onnxNodes, runOrt } from './helpers.ts'

const TOL = 1e-5

/** A map's entry, which the test knows is there. */
const get = <T>(p: { get(k: string): T | undefined }, k: string): T => p.get(k) as T

/** Exports at `inputs`, runs ORT on `feeds` (default the same), returns the largest relative difference over the outputs. */
async function compare<P>(
  name: string,
  f: (p: P, ...xs: Tensor[]) => Record<string, Tensor>,
  params: P,
  inputs: Tensor[],
  options: ExportOptions,
  feeds: Tensor[] = inputs,
): Promise<number> {
  const bytes = exportOnnx(f, params, inputs, options)
  const names = options.inputNames ?? inputs.map((_, i) => `input_${i}`)
  const got = await runOrt(bytes, Object.fromEntries(names.map((n, i) => [n, feeds[i]])))
  let worst = 0
  for (const [k, t] of Object.entries(f(params, ...feeds))) worst = Math.max(worst, maxRelDiff(got[k], t))
  console.log(`onnx ${name}: largest relative difference from graphgrad ${worst.toExponential(2)} (${bytes.length} bytes)`)
  return worst
}

/**
 * Whether @graphgrad/layers records the fused scans' attributes (input names, direction,
 * layout, lengths) that the exporter reads: the one-line change to the scan's makeOutputs call
 * in packages/layers/src/cells/recurrence.ts. Until it lands the tests below are skipped, saying so.
 */
function scansRecordAttributes(): boolean {
  const layer = rnn({ inputSize: 1, hiddenSize: 1 })
  try {
    exportOnnx((p: Params, x: Tensor) => layer.apply(p, x).output, layer.init(0), [randn([1, 1, 1], 0)])
    return true
  } catch (e) {
    if (/records no input names/.test((e as Error).message)) return false
    throw e
  }
}
const recorded = scansRecordAttributes()
const skipReason = "@graphgrad/layers does not record the fused scans' attributes yet (packages/layers/src/cells/recurrence.ts)"
if (!recorded) console.warn(`packages/onnx/test/recurrent.test.ts: skipped: ${skipReason}`)

describe.skipIf(!recorded)(`recurrent layers as ONNX LSTM, GRU and RNN nodes${recorded ? '' : ` (skipped: ${skipReason})`}`, () => {
  const V = 11
  const emb = embedding({ numEmbeddings: V, embeddingDim: 8 })
  const cell = lstm({ inputSize: 8, hiddenSize: 16, numLayers: 2, batchFirst: true })
  const head = linear({ inFeatures: 16, outFeatures: V })
  const params = OrderedMap({ embed: emb.init(1), lstm: cell.init(2), head: head.init(3) })
  const lm = (p: typeof params, tokens: Tensor, h0: Tensor, c0: Tensor): Record<string, Tensor> => {
    const r = cell.apply(get(p, 'lstm'), emb.apply(get(p, 'embed'), tokens), { h0, c0 })
    return { logits: head.apply(get(p, 'head'), r.output), hN: r.hN, cN: r.cN }
  }
  const lmOptions: ExportOptions = {
    inputNames: ['tokens', 'h0', 'c0'],
    dynamicAxes: {
      tokens: { 0: 'batch', 1: 'seq' },
      h0: { 1: 'batch' },
      c0: { 1: 'batch' },
      logits: { 0: 'batch', 1: 'seq' },
      hN: { 1: 'batch' },
      cN: { 1: 'batch' },
    },
  }
  const lmInputs = (B: number, T: number, seed: number): Tensor[] => [randint(0, V, [B, T], seed), randn([2, B, 16], seed + 1), randn([2, B, 16], seed + 2)]

  it('the character LM (embedding, 2-layer LSTM, linear) with its state in and out', async () => {
    expect(await compare('char LM', lm, params, lmInputs(2, 5, 10), lmOptions)).toBeLessThan(TOL)
  })

  it('the character LM exported at batch 2, sequence 5 runs at batch 7, sequence 40', async () => {
    expect(await compare('char LM, dynamic axes', lm, params, lmInputs(2, 5, 10), lmOptions, lmInputs(7, 40, 20))).toBeLessThan(TOL)
  })

  it('a 2-layer GRU (linear_before_reset), without an initial state', async () => {
    const layer = gru({ inputSize: 5, hiddenSize: 7, numLayers: 2 })
    const p = OrderedMap({ gru: layer.init(4) })
    const f = (q: typeof p, x: Tensor): Record<string, Tensor> => {
      const r = layer.apply(get(q, 'gru'), x)
      return { output: r.output, hN: r.hN }
    }
    expect(await compare('GRU', f, p, [randn([6, 3, 5], 5)], { dynamicAxes: { input_0: { 0: 'seq', 1: 'batch' } } }, [randn([9, 4, 5], 6)])).toBeLessThan(TOL)
  })

  for (const nonlinearity of ['tanh', 'relu'] as const) {
    it(`an RNN (${nonlinearity}), batch-first, with h0`, async () => {
      const layer = rnn({ inputSize: 4, hiddenSize: 6, nonlinearity, batchFirst: true })
      const p = OrderedMap({ rnn: layer.init(7) })
      const f = (q: typeof p, x: Tensor, h0: Tensor): Record<string, Tensor> => {
        const r = layer.apply(get(q, 'rnn'), x, { h0 })
        return { output: r.output, hN: r.hN }
      }
      expect(await compare(`RNN ${nonlinearity}`, f, p, [randn([3, 5, 4], 8), randn([1, 3, 6], 9)], {})).toBeLessThan(TOL)
    })
  }

  it('a bidirectional 2-layer LSTM with lengths (sequence_lens)', async () => {
    const layer = lstm({ inputSize: 4, hiddenSize: 5, numLayers: 2, bidirectional: true })
    const p = OrderedMap({ lstm: layer.init(11) })
    const f = (q: typeof p, x: Tensor): Record<string, Tensor> => {
      const r = layer.apply(get(q, 'lstm'), x, { lengths: [6, 3, 5] })
      return { output: r.output, hN: r.hN, cN: r.cN }
    }
    expect(await compare('bidirectional LSTM with lengths', f, p, [randn([6, 3, 4], 12)], {})).toBeLessThan(TOL)
    // One node per layer, both directions in it.
    const lstms = onnxNodes(exportOnnx(f, p, [randn([6, 3, 4], 12)])).filter((n) => n.opType === 'LSTM')
    expect(lstms.map((n) => n.attributes.direction)).toEqual(['bidirectional', 'bidirectional'])
  })

  it('a bidirectional GRU with h0, and a bidirectional relu RNN, batch-first, exported at batch 2, sequence 5, run at batch 4, sequence 9', async () => {
    const g = gru({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, batchFirst: true })
    const r = rnn({ inputSize: 3, hiddenSize: 5, bidirectional: true, batchFirst: true, nonlinearity: 'relu' })
    const p = OrderedMap({ gru: g.init(13), rnn: r.init(14) })
    const f = (q: typeof p, x: Tensor, h0: Tensor): Record<string, Tensor> => {
      const a = g.apply(get(q, 'gru'), x, { h0 })
      const b = r.apply(get(q, 'rnn'), x)
      return { output: a.output, hN: a.hN, rnnOut: b.output, rnnH: b.hN }
    }
    const options: ExportOptions = {
      inputNames: ['x', 'h0'],
      dynamicAxes: { x: { 0: 'batch', 1: 'seq' }, h0: { 1: 'batch' } },
    }
    const inputs = (B: number, T: number, seed: number): [Tensor, Tensor] => [randn([B, T, 3], seed), randn([4, B, 4], seed + 1)]
    expect(await compare('bidirectional GRU and RNN', f, p, inputs(2, 5, 15), options, inputs(4, 9, 17))).toBeLessThan(TOL)
    const nodes = onnxNodes(exportOnnx(f, p, inputs(2, 5, 15), options)).filter((n) => ['GRU', 'RNN'].includes(n.opType))
    expect(nodes.map((n) => `${n.opType} ${n.attributes.direction}`)).toEqual(['GRU bidirectional', 'GRU bidirectional', 'RNN bidirectional'])
  })
})
