/**
 * The JSON parts of a checkpoint (config.json, progress.json) and the consistency checks
 * between its files: each field read back is checked, so a damaged or foreign checkpoint
 * is refused with a message naming the file and the field.
 * @module
 */
import { List } from 'immutable'
import { type Tensor, flattenParams, fmtShape } from '@graphgrad/core'
import type { Params } from '@graphgrad/layers'
import type { OptimizerState } from '@graphgrad/optim'
import { LmError } from './errors.ts'
import { type JsonReader, isFiniteNumber, isString } from './json.ts'
import { LIMITS, firstNonFinite } from './limits.ts'
import type { ModelConfig } from './model.ts'
import { type TrainConfig, type TrainState, type ValidationPoint, dropoutKey } from './train.ts'
import { Vocabulary } from './vocabulary.ts'

/** Fingerprint of the text a run trains on, so `--resume` can refuse another text. */
interface CorpusInfo {
  /** Where it came from (a path, or the project's documentation), for messages. */
  readonly source: string
  /** The file given with `--text`, or '' for the project's documentation: what `--resume` reads again. */
  readonly file: string
  /** SHA-256 of the text. */
  readonly sha256: string
  /** Its length in characters (code points). */
  readonly characters: number
}

/** What a run is: the model, its training settings, its vocabulary and its text. */
export interface CheckpointMeta {
  /** Model sizes. */
  readonly model: ModelConfig
  /** Training settings. */
  readonly training: TrainConfig
  /** The characters the model knows. */
  readonly vocabulary: Vocabulary
  /** The training text's fingerprint. */
  readonly corpus: CorpusInfo
}

/** The progress part of a training state (everything but tensors). */
export type Progress = Pick<TrainState, 'step' | 'losses' | 'gradNorms' | 'validation'>

/** config.json's text. */
export function encodeConfig(format: string, meta: CheckpointMeta): string {
  return `${JSON.stringify({ format, model: meta.model, training: meta.training, vocabulary: meta.vocabulary.chars, corpus: meta.corpus }, null, 1)}\n`
}

/** Reads config.json back; every field is checked. */
export function readConfig(json: JsonReader, format: string): CheckpointMeta {
  const found = json.string('format')
  if (found !== format) throw new LmError(`${json.where}: format '${found}' is not '${format}' (a checkpoint of another model?)`)
  const m = json.object('model')
  const t = json.object('training')
  const c = json.object('corpus')
  const chars = json.array('vocabulary', 'single characters', (x): x is string => isString(x) && Array.from(x).length === 1)
  if (new Set(chars).size !== chars.length) throw new LmError(`${json.where}: the vocabulary repeats a character`)
  // The same ranges as the options of pnpm lm train: a checkpoint claiming more is refused before anything is allocated.
  const model: ModelConfig = {
    vocabSize: m.int('vocabSize', 1),
    embedDim: m.int('embedDim', 1, LIMITS.embed),
    hidden: m.int('hidden', 1, LIMITS.hidden),
    layers: m.int('layers', 1, LIMITS.layers),
    dropout: m.number('dropout', 0, 0.99),
  }
  if (model.vocabSize !== chars.length)
    throw new LmError(`${json.where}: the model has ${model.vocabSize} outputs but the vocabulary ${chars.length} characters`)
  return {
    model,
    training: {
      seed: t.int('seed'),
      batch: t.int('batch', 1, LIMITS.batch),
      seq: t.int('seq', 1, LIMITS.seq),
      lr: t.number('lr', 0),
      clip: t.number('clip', 0),
      valFraction: t.number('valFraction', 0, 0.9),
    },
    vocabulary: new Vocabulary(chars),
    corpus: { source: c.string('source'), file: c.string('file'), sha256: c.string('sha256'), characters: c.int('characters', 1) },
  }
}

/** progress.json's text: the step, the data position, the next dropout key and the history. */
export function encodeProgress(state: TrainState, windowsPerPass: number, seed: number): string {
  const position = { nextWindow: state.step % windowsPerPass, windowsPerPass, pass: Math.floor(state.step / windowsPerPass) }
  const nextDropoutKey = dropoutKey(seed, state.step).words
  const { step, losses, gradNorms, validation } = state
  return `${JSON.stringify({ step, position, nextDropoutKey, losses, gradNorms, validation })}\n`
}

/** Reads progress.json back; every field is checked. */
export function readProgress(json: JsonReader): Progress {
  const step = json.int('step')
  const losses = json.array('losses', 'numbers', isFiniteNumber)
  const gradNorms = json.array('gradNorms', 'numbers', isFiniteNumber)
  if (losses.length !== step || gradNorms.length !== step)
    throw new LmError(`${json.where}: ${losses.length} losses and ${gradNorms.length} gradient norms recorded for ${step} steps`)
  const validation: ValidationPoint[] = json.objects('validation').map((v) => ({ step: v.int('step'), loss: v.number('loss', 0), bpc: v.number('bpc', 0) }))
  return { step, losses: List(losses), gradNorms: List(gradNorms), validation: List(validation) }
}

/** Checks that an optimizer state is Adam's for exactly these parameters (names and shapes). */
export function checkOptimizerState(state: OptimizerState, params: Params, file: string): void {
  if (state.optimizer !== 'adam') throw new LmError(`${file}: the optimizer state is ${state.optimizer}'s, expected adam's`)
  const flat = flattenParams(params)
  const names = [...state.slots.keys()]
  const expected = [...flat.keys()]
  if (names.join() !== expected.join())
    throw new LmError(`${file}: the optimizer state is for parameters ${names.join(', ')}, the model has ${expected.join(', ')}`)
  for (const [name, slots] of state.slots) {
    const p = flat.get(name) as Tensor
    for (const slot of ['exp_avg', 'exp_avg_sq']) {
      const t = slots.get(slot)
      if (t === undefined || fmtShape(t.shape) !== fmtShape(p.shape)) {
        throw new LmError(
          `${file}: slot ${slot} of ${name} is ${t === undefined ? 'missing' : `shaped ${fmtShape(t.shape)}`}, the parameter is ${fmtShape(p.shape)}`,
        )
      }
    }
  }
}

/** Checks that a restored state agrees with itself and with the config. */
export function checkState(state: TrainState, meta: CheckpointMeta, where: string): void {
  if (state.optimizer.step !== state.step)
    throw new LmError(`${where}: the optimizer has done ${state.optimizer.step} steps but progress.json says ${state.step}`)
  const want = fmtShape([meta.model.layers, meta.training.batch, meta.model.hidden])
  for (const [name, t] of [
    ['h', state.carried?.h],
    ['c', state.carried?.c],
  ] as const) {
    if (t === undefined || fmtShape(t.shape) !== want || t.dtype !== 'float32') {
      throw new LmError(
        `${where}: the carried LSTM state ${name} is ${t === undefined ? 'missing' : `${t.dtype} ${fmtShape(t.shape)}`}, expected float32 ${want}`,
      )
    }
  }
}

/**
 * The first NaN or infinite number of a state, named by the checkpoint file it goes to and
 * the tensor or field (`model.safetensors: tensor 'lstm.weight_hh_l0' holds NaN (element 5
 * of 1024)`), or undefined when every number is finite. Such a state is never saved, and a
 * checkpoint holding one is refused: it can be neither sampled from nor resumed.
 */
export function nonFinite(state: TrainState): string | undefined {
  const bad = (t: Tensor, what: string): string | undefined => {
    const at = firstNonFinite(t)
    return at === undefined ? undefined : `${what} holds ${at.value} (element ${at.index} of ${t.size})`
  }
  for (const [name, t] of flattenParams(state.params)) {
    const found = bad(t, `model.safetensors: tensor '${name}'`)
    if (found !== undefined) return found
  }
  for (const [name, slots] of state.optimizer.slots) {
    for (const [slot, t] of slots) {
      const found = bad(t, `optimizer.safetensors: Adam's ${slot} of '${name}'`)
      if (found !== undefined) return found
    }
  }
  for (const [name, t] of [
    ['h', state.carried?.h],
    ['c', state.carried?.c],
  ] as const) {
    const found = t === undefined ? undefined : bad(t, `lstm-state.safetensors: tensor '${name}'`)
    if (found !== undefined) return found
  }
  const numbers: [string, List<number>][] = [
    ['loss', state.losses],
    ['gradient norm', state.gradNorms],
    ['validation loss', state.validation.map((v) => v.loss)],
  ]
  for (const [what, list] of numbers) {
    const i = list.findIndex((x) => !Number.isFinite(x))
    if (i >= 0)
      return `progress.json: the ${what} of ${what === 'validation loss' ? `step ${(state.validation.get(i) as ValidationPoint).step}` : `step ${i + 1}`} is ${list.get(i)}`
  }
  return undefined
}
