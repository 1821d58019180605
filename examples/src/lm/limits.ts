/**
 * The language model's size limits, and what a run needs, checked before anything is
 * allocated (see ../shared/resources.ts):
 *
 * - the options' ranges (`--hidden` at most 8000, ...), which config.json must keep too;
 * - at most {@link MAX_PARAMETERS} parameters, so that every checkpoint file can be read
 *   back: optimizer.safetensors holds Adam's two moments, 8 bytes a parameter, and Node's
 *   `readFile` reads at most 2 GiB;
 * - no tensor past graphgrad's 2^31 - 1 elements;
 * - an estimate of the memory of training (or of loading a checkpoint) within the machine's limit.
 * @module
 */
import type { Tensor } from '@graphgrad/core'
import { type MemoryLimit, type TensorNeed, memoryTooLarge, tensorTooLarge } from '../shared/resources.ts'
import type { ModelConfig } from './model.ts'
import type { TrainConfig } from './train.ts'

/** The largest value of each size option of `pnpm lm train` (and of the same field in config.json). */
export const LIMITS = {
  /** One LSTM layer of 8000 has 256 M parameters: about the most a checkpoint holds ({@link MAX_PARAMETERS}). */
  hidden: 8000,
  embed: 100000,
  layers: 64,
  batch: 4096,
  seq: 100000,
} as const

/** The most parameters a model may have: Adam's two moments (8 bytes each) must fit a 2 GiB file, with room for its header. */
export const MAX_PARAMETERS = 268_000_000

/** The longest training text, in bytes: 128 MiB (enwik8, the classic character-level benchmark, has 100 MB). */
export const MAX_TEXT_BYTES = 128 * 2 ** 20

/** Bytes per parameter while training: the parameters, their gradients (also clipped), Adam's two moments, the updated copies, checkpoint encoding. */
const TRAIN_BYTES_PER_PARAMETER = 64
/** Bytes per parameter while loading a checkpoint: the files, the template the weights load into, the weights, Adam's moments. */
const LOAD_BYTES_PER_PARAMETER = 32
/** Bytes per character of the text: the bytes read, the decoded string, the token ids. */
const BYTES_PER_TEXT_CHARACTER = 12

/** Number of trainable scalars of a model of these sizes (what `parameterCount(model.init(...))` would count). */
export function modelParameterCount(m: ModelConfig): number {
  const { vocabSize: v, embedDim: e, hidden: h, layers } = m
  let n = v * e + h * v + v
  for (let l = 0; l < layers; l++) n += 4 * h * ((l === 0 ? e : h) + h + 2)
  return n
}

/** The model's largest parameter tensors. */
function parameterTensors(m: ModelConfig): TensorNeed[] {
  const { vocabSize: v, embedDim: e, hidden: h } = m
  const hint = 'a smaller --hidden or --embed'
  return [
    { what: 'the embedding', shape: [v, e], hint },
    { what: "the first LSTM layer's input weights", shape: [4 * h, e], hint },
    { what: "an LSTM layer's recurrent weights", shape: [4 * h, h], hint },
    { what: "the head's weights", shape: [v, h], hint },
  ]
}

/**
 * Why a model of these sizes cannot be trained whatever the machine (a tensor past the
 * element limit, more than {@link MAX_PARAMETERS} parameters), or undefined.
 */
export function modelProblem(m: ModelConfig): string | undefined {
  const tensor = tensorTooLarge(parameterTensors(m))
  if (tensor !== undefined) return tensor
  const n = modelParameterCount(m)
  if (n <= MAX_PARAMETERS) return undefined
  return `the model would have ${n} parameters, more than the ${MAX_PARAMETERS} a checkpoint can hold (Adam's state takes 8 bytes a parameter, and a file is read back whole, at most 2 GiB); use a smaller --hidden, --layers or --embed`
}

/**
 * Why training this model with these settings on a text of `characters` characters cannot
 * work here (a step's tensor past the element limit, or more memory than `limit`), or undefined.
 */
export function trainingProblem(m: ModelConfig, t: Pick<TrainConfig, 'batch' | 'seq'>, characters: number, limit: MemoryLimit): string | undefined {
  const model = modelProblem(m)
  if (model !== undefined) return model
  const tokens = t.batch * t.seq
  const tensor = tensorTooLarge([
    { what: 'the logits of one step', shape: [tokens, m.vocabSize], hint: 'a smaller --batch or --seq' },
    { what: "the LSTM's output of one step", shape: [tokens, m.hidden], hint: 'a smaller --batch, --seq or --hidden' },
  ])
  if (tensor !== undefined) return tensor
  // Per character of a step: the LSTM's gates, states and their gradients in every layer; the
  // logits, softmax and their gradients; the embedding and its gradient (measured, rounded up by half).
  const perToken = 80 * m.layers * m.hidden + 96 * m.vocabSize + 48 * m.embedDim + 384
  const memory = memoryTooLarge(
    [
      { what: "parameters, gradients and Adam's state", bytes: modelParameterCount(m) * TRAIN_BYTES_PER_PARAMETER },
      { what: 'activations of one step', bytes: tokens * perToken },
      { what: 'the text', bytes: characters * BYTES_PER_TEXT_CHARACTER },
    ],
    limit,
  )
  return memory === undefined ? undefined : `this run ${memory}; use a smaller --hidden, --layers, --embed, --batch or --seq`
}

/** Why loading a checkpoint of this model needs more memory than `limit`, or undefined. */
export function loadingProblem(m: ModelConfig, limit: MemoryLimit): string | undefined {
  return memoryTooLarge([{ what: 'the weights, the optimizer state and their files', bytes: modelParameterCount(m) * LOAD_BYTES_PER_PARAMETER }], limit)
}

/** The first element of `t` that is NaN or infinite, with its index, or undefined. */
export function firstNonFinite(t: Tensor): { readonly index: number; readonly value: number } | undefined {
  const data = t.data
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return { index: i, value: data[i] }
  return undefined
}
