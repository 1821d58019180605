// The character language model trains exactly like PyTorch: testdata/lm-torch/ holds a
// 200-step run of the same model in PyTorch 1.13 (written by scripts/fixtures/lm_torch_trajectory.py:
// the initial weights, the text's token ids, every step's loss and gradient norm, the final
// weights). This replays it through the example's own training step (trainer() of
// src/lm/train.ts: the windows of batching.ts, truncated BPTT with the carried state,
// cross-entropy, clipGradNorm, Adam) from the same initial weights, in float64 and in float32.
import { readFileSync } from 'node:fs'
import { type DType, Tensor, astype, loadSafetensors } from '@graphgrad/core'
import { type Params, loadStateDict, stateDict } from '@graphgrad/layers'
import { describe, expect, it } from 'vitest'
import { type ModelConfig, charModel } from '../src/lm/model.ts'
import { type TrainConfig, type TrainState, trainer } from '../src/lm/train.ts'
import { Vocabulary } from '../src/lm/vocabulary.ts'

const dir = new URL('../../testdata/lm-torch/', import.meta.url)

interface Trajectory {
  readonly model: ModelConfig
  readonly training: TrainConfig & { readonly steps: number; readonly windowsPerPass: number }
  readonly text: string
  /** PyTorch's float64 run: the loss and the gradient norm (before clipping) of every step. */
  readonly losses: readonly number[]
  readonly gradNorms: readonly number[]
  /** PyTorch's float32 run: the loss of every step. */
  readonly lossesFloat32: readonly number[]
}

const fixture = JSON.parse(readFileSync(new URL('trajectory.json', dir), 'utf8')) as Trajectory
const tensors = loadSafetensors(new Uint8Array(readFileSync(new URL('trajectory.safetensors', dir))))
const tokens = tensors.get('tokens') as Tensor
const model = charModel(fixture.model)
const config: TrainConfig = { ...fixture.training, valFraction: 0.1 }

/** Every parameter of `params` as `dtype`. */
function cast(params: Params, dtype: DType): Params {
  return params.map((v) => (v instanceof Tensor ? astype(v, dtype) : cast(v, dtype))) as Params
}

/** The fixture's weights under `prefix` ('init.', 'final.') loaded into the model's parameters, as `dtype`. */
function weights(prefix: string, dtype: DType): Params {
  return loadStateDict(cast(model.init(0), dtype), tensors, { prefix })
}

/** Trains from the fixture's initial weights in `dtype` with the example's trainer, for the fixture's steps. */
function replay(dtype: DType): TrainState {
  const run = trainer(model, config, new Int32Array(tokens.data))
  expect(run.streams.windows).toBe(fixture.training.windowsPerPass)
  let state = run.init(weights('init.', dtype))
  while (state.step < fixture.training.steps) state = run.step(state)
  return state
}

/** The largest |a - b| / |b| over the pairs. */
function worstRelative(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length)
  let worst = 0
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.abs(b[i]))
  return worst
}

describe('the char LM trains like PyTorch (testdata/lm-torch, 200 steps)', () => {
  it("the fixture's tokens are the example's encoding of its text", () => {
    expect(Array.from(Vocabulary.fromText(fixture.text).encode(fixture.text, 'the text'))).toEqual(Array.from(tokens.data))
    expect(fixture.model.vocabSize).toBe(Vocabulary.fromText(fixture.text).size)
  })

  it('float64: every loss and gradient norm, and the final weights, within 1e-9 relative', () => {
    const state = replay('float64')
    const losses = state.losses.toArray()
    expect(losses).toHaveLength(fixture.training.steps)
    const lossError = worstRelative(losses, fixture.losses)
    const normError = worstRelative(state.gradNorms.toArray(), fixture.gradNorms)
    const expected = stateDict(weights('final.', 'float64'))
    let weightError = 0
    for (const [name, w] of stateDict(state.params)) {
      expect(w.dtype, name).toBe('float64')
      weightError = Math.max(weightError, worstRelative(w.data, (expected.get(name) as Tensor).data))
    }
    console.log(
      `lm vs PyTorch, float64: largest relative difference: losses ${lossError.toExponential(2)}, gradient norms ${normError.toExponential(2)}, final weights ${weightError.toExponential(2)}`,
    )
    expect(lossError).toBeLessThan(1e-9)
    expect(normError).toBeLessThan(1e-9)
    expect(weightError).toBeLessThan(1e-9)
  })

  it("float32: every loss within 1e-4 relative of PyTorch's float64 run and of its float32 run", () => {
    const state = replay('float32')
    expect(stateDict(state.params).every((w) => w.dtype === 'float32')).toBe(true)
    const losses = state.losses.toArray()
    const error64 = worstRelative(losses, fixture.losses)
    const error32 = worstRelative(losses, fixture.lossesFloat32)
    console.log(
      `lm vs PyTorch, float32: largest relative difference of the losses from PyTorch's float64 run ${error64.toExponential(2)}, from its float32 run ${error32.toExponential(2)} (PyTorch float32 from float64: ${worstRelative(fixture.lossesFloat32, fixture.losses).toExponential(2)})`,
    )
    expect(error64).toBeLessThan(1e-4)
    expect(error32).toBeLessThan(1e-4)
  })
})
