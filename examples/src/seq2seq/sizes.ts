/**
 * Equal parameter budgets: the LSTM's sizes follow from `--hidden`, and the transformer gets
 * the width (a multiple of its 4 heads, feed-forward twice as wide, one encoder and one
 * decoder layer) whose parameter count comes closest to the LSTM's. The counts are computed
 * from the sizes, so no parameters are allocated to choose; a test checks them against `init`.
 * @module
 */
import type { LstmConfig } from './lstm-model.ts'
import type { TransformerConfig } from './transformer-model.ts'

/** Parameters of the LSTM model of a config. */
export function lstmParameterCount(c: LstmConfig): number {
  const { hidden: H, embedDim: E } = c
  const h = H / 2
  const embeddings = (c.sourceVocabulary + c.targetVocabulary) * E
  const encoder = 2 * (4 * h * E + 4 * h * h + 8 * h)
  const decoder = 4 * H * E + 4 * H * H + 8 * H
  const attention = H * H
  const combine = 2 * H * H + H
  const head = H * c.targetVocabulary + c.targetVocabulary
  return embeddings + encoder + decoder + attention + combine + head
}

/** Parameters of the transformer of a config. */
export function transformerParameterCount(c: TransformerConfig): number {
  const { dModel: D, feedforward: F } = c
  const attention = 4 * D * D + 4 * D
  const feedforward = 2 * D * F + F + D
  const encoderLayer = attention + feedforward + 4 * D
  const decoderLayer = 2 * attention + feedforward + 6 * D
  return (c.sourceVocabulary + c.targetVocabulary) * D + c.layers * (encoderLayer + decoderLayer) + D * c.targetVocabulary + c.targetVocabulary
}

/** The LSTM's sizes for a hidden size: embeddings half as wide. */
export function lstmConfig(vocabularies: { source: number; target: number }, hidden: number): LstmConfig {
  return { sourceVocabulary: vocabularies.source, targetVocabulary: vocabularies.target, embedDim: Math.max(1, hidden / 2), hidden }
}

/** Heads of the transformer. */
const HEADS = 4

/** The transformer whose parameter count is closest to `budget` (the smaller width on a tie). */
export function transformerForBudget(vocabularies: { source: number; target: number }, budget: number): TransformerConfig {
  const config = (dModel: number): TransformerConfig => ({
    sourceVocabulary: vocabularies.source,
    targetVocabulary: vocabularies.target,
    dModel,
    heads: HEADS,
    feedforward: 2 * dModel,
    layers: 1,
    dropout: 0,
  })
  let best = config(HEADS)
  for (let d = 2 * HEADS; transformerParameterCount(config(d - HEADS)) < budget; d += HEADS) {
    if (Math.abs(transformerParameterCount(config(d)) - budget) < Math.abs(transformerParameterCount(best) - budget)) best = config(d)
  }
  return best
}
