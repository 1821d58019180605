/**
 * The whole run: draw the split, build the models at equal budgets, train each, score each
 * on the held-out dates, and decode one held-out example with the LSTM for the attention map.
 * @module
 */
import { cpus } from 'node:os'
import { padSequences } from '@graphgrad/core'
import { type Params, parameterCount } from '@graphgrad/layers'
import type { ProgressSink } from '../shared/progress.ts'
import { type Example, makeSplit } from './dates.ts'
import { greedyDecode } from './decode.ts'
import { type Evaluation, MAX_OUTPUT, evaluate } from './evaluate.ts'
import type { HeatMap } from './heatmap.ts'
import { lstmAttentionModel } from './lstm-model.ts'
import type { Seq2SeqModel } from './model.ts'
import type { ModelName, Settings } from './options.ts'
import { lstmConfig, lstmParameterCount, transformerForBudget } from './sizes.ts'
import { train } from './train.ts'
import { transformerModel } from './transformer-model.ts'
import { PAD, SOURCE_VOCABULARY, TARGET_VOCABULARY, decodeTarget, encodeSource, encodeTarget, tokenize } from './vocab.ts'

/** One model's run. */
export interface ModelRun {
  /** `lstm` or `transformer`. */
  readonly model: ModelName
  /** Its architecture and sizes in one line. */
  readonly describe: string
  /** Trainable parameters. */
  readonly parameters: number
  /** Distinct training examples. */
  readonly trainingSequences: number
  /** Passes over them. */
  readonly epochs: number
  /** Optimizer steps. */
  readonly steps: number
  /** Mean training loss of each epoch. */
  readonly epochLosses: readonly number[]
  /** Held-out exact match and what beam search changed. */
  readonly heldOut: Evaluation
  /** Seconds spent training. */
  readonly trainSeconds: number
  /** Seconds for the whole model: training and scoring. */
  readonly seconds: number
}

/** Everything results.json holds. */
export interface Results {
  /** Format tag. */
  readonly format: 'graphgrad-seq2seq-results/1'
  /** The settings of the run. */
  readonly settings: Settings
  /** Where it ran. */
  readonly machine: { readonly cpus: number; readonly cpu: string; readonly node: string }
  /** The first few training examples, to see what the task looks like. */
  readonly samples: readonly { readonly source: string; readonly target: string }[]
  /** One run per model. */
  readonly runs: readonly ModelRun[]
  /** The held-out example of the attention map, as the LSTM decoded it. */
  readonly attention?: { readonly source: string; readonly target: string; readonly output: string }
  /** Seconds for the whole run. */
  readonly seconds: number
}

/** What a run gives: the results and the heat map to draw (when the LSTM ran). */
export interface RunOutput {
  /** The results, as written to results.json. */
  readonly results: Results
  /** The LSTM's attention on one held-out example. */
  readonly heatMap?: HeatMap
}

/** The held-out example drawn in the heat map: the first one with the year in words (the most to align), else the first. */
function heatMapExample(heldOut: readonly Example[]): Example {
  return heldOut.find((e) => e.format === 'theOfWords') ?? heldOut[0]
}

/** Greedy decoding of one example with its attention, as a {@link HeatMap}. */
function attentionMap<M, S>(model: Seq2SeqModel<M, S>, params: Params, e: Example): { map: HeatMap; output: string } {
  const { padded, lengths } = padSequences([encodeSource(e.source)], { padValue: PAD })
  const [h] = greedyDecode(model, params, padded, lengths, { maxLength: MAX_OUTPUT })
  const output = decodeTarget(h.tokens)
  const rows = [...h.tokens.map((t) => TARGET_VOCABULARY.tokens[t]), ...(h.finished ? ['</s>'] : [])]
  return { map: { title: `"${e.source}" -> ${output} (target ${e.target})`, columns: tokenize(e.source), rows, weights: h.attention }, output }
}

/** Runs the experiment; progress lines go to `sink`. */
export function runExperiment(settings: Settings, sink: ProgressSink): RunOutput {
  const started = performance.now()
  const split = makeSplit(settings.seed, { train: settings.train, heldOut: settings.heldOut })
  const data = { sources: split.train.map((e) => encodeSource(e.source)), targets: split.train.map((e) => encodeTarget(e.target)) }
  const vocabularies = { source: SOURCE_VOCABULARY.tokens.length, target: TARGET_VOCABULARY.tokens.length }
  const lstmSizes = lstmConfig(vocabularies, settings.hidden)
  const build = (name: ModelName): Seq2SeqModel =>
    (name === 'lstm' ? lstmAttentionModel(lstmSizes) : transformerModel(transformerForBudget(vocabularies, lstmParameterCount(lstmSizes)))) as Seq2SeqModel
  const runs: ModelRun[] = []
  let heatMap: HeatMap | undefined
  let attention: Results['attention']
  settings.models.forEach((name, i) => {
    const model = build(name)
    const label = `[${i + 1}/${settings.models.length}] ${name.padEnd(11)}`
    const trained = train(model, MODEL_INDEX[name], data, settings, sink, label)
    const heldOut = evaluate(model, trained.params, split.heldOut, settings.beam)
    runs.push({
      model: name,
      describe: model.describe,
      parameters: parameterCount(trained.params),
      trainingSequences: data.sources.length,
      epochs: settings.epochs,
      steps: trained.steps,
      epochLosses: trained.epochLosses,
      heldOut,
      trainSeconds: trained.seconds,
      seconds: trained.seconds + heldOut.seconds,
    })
    if (name === 'lstm') {
      const e = heatMapExample(split.heldOut)
      const drawn = attentionMap(model, trained.params, e)
      heatMap = drawn.map
      attention = { source: e.source, target: e.target, output: drawn.output }
    }
  })
  const machine = { cpus: cpus().length, cpu: cpus()[0]?.model.trim() ?? 'unknown', node: process.version }
  const samples = split.train.slice(0, 6).map(({ source, target }) => ({ source, target }))
  const results: Results = { format: 'graphgrad-seq2seq-results/1', settings, machine, samples, runs, attention, seconds: (performance.now() - started) / 1000 }
  return { results, heatMap }
}

/** Each model's index in the key derivation: the LSTM's draws stay the same whether the transformer runs or not. */
const MODEL_INDEX: Readonly<Record<ModelName, number>> = { lstm: 0, transformer: 1 }
