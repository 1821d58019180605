/**
 * The live demo's model: a character-level LSTM language model (embedding -> lstm -> linear)
 * trained with Adam and truncated backpropagation through time, small enough to learn in a
 * browser tab. Plain TypeScript with no DOM: the Web Worker drives it, and Node can too.
 *
 * The text is cut into `batch` parallel streams read window by window; the LSTM state at the
 * end of a window starts the next one, cut from the graph with `stopGradient`, so each
 * backward pass stops at the window edge while the forward pass remembers what came before.
 * @module
 */
import { OrderedMap } from 'immutable'
import { type Tensor, RandomStream, foldIn, softmax, stopGradient, tensor, valueAndGrad } from '@graphgrad/core'
import { type Params, crossEntropy, embedding, linear, lstm } from '@graphgrad/layers'
import { exportOnnx } from '@graphgrad/onnx'
import { adam, clipGradNorm } from '@graphgrad/optim'

/** Sizes and hyper-parameters of the demo model. */
export interface CharLstmOptions {
  /** Hidden units of the LSTM (default 32). */
  readonly hiddenSize?: number
  /** Embedding width (default 16). */
  readonly embeddingDim?: number
  /** Characters per truncated-BPTT window (default 16). */
  readonly seqLen?: number
  /** Parallel streams per batch (default 8). */
  readonly batch?: number
  /** Adam's learning rate (default 0.02). */
  readonly lr?: number
  /** Seed of the weights and of the samples (default 0). */
  readonly seed?: number
}

/** A model being trained on one text. */
export interface CharLstmTrainer {
  /** The text's distinct characters, sorted: the model's vocabulary. */
  readonly vocab: readonly string[]
  /** Updates done so far. */
  readonly steps: number
  /** One Adam update on the next window; returns the window's mean cross-entropy (nats per character). */
  step(): number
  /** `length` characters written by the model after `prompt` (sampled at temperature 0.7). */
  sample(prompt: string, length: number): string
  /**
   * The model as it is now, exported to ONNX ({@link exportOnnx}: tokens `[1, seq]` in,
   * logits `[1, seq, vocab]` out, the sequence axis dynamic), with graphgrad's logits for
   * `prompt` (its characters outside the vocabulary left out) to compare a runtime's with.
   */
  exportModel(prompt: string): ExportedModel
}

/** What {@link CharLstmTrainer.exportModel} gives. */
export interface ExportedModel {
  /** The ONNX model's bytes. */
  readonly bytes: Uint8Array
  /** The prompt's token ids, the model's input (`[1, tokens.length]`). */
  readonly tokens: Int32Array
  /** graphgrad's logits for them, row-major `[1, tokens.length, vocab]`. */
  readonly logits: Float32Array
}

/** Creates the model and optimizer for `text`; throws a clear error when the text is too short to train on. */
export function createCharLstm(text: string, options: CharLstmOptions = {}): CharLstmTrainer {
  const hiddenSize = options.hiddenSize ?? 32
  const embeddingDim = options.embeddingDim ?? 16
  const seqLen = options.seqLen ?? 16
  const batch = options.batch ?? 8
  const seed = options.seed ?? 0
  const minLength = batch * seqLen + 1
  if (text.length < minLength) {
    throw new Error(
      `char LSTM demo: the text has ${text.length} characters; it needs at least ${minLength} (${batch} streams of ${seqLen} characters, plus one)`,
    )
  }
  const vocab = [...new Set(text)].sort()
  const indexOf = new Map(vocab.map((ch, i) => [ch, i]))
  const ids = Int32Array.from(text, (ch) => indexOf.get(ch) as number)
  const V = vocab.length

  const embed = embedding({ numEmbeddings: V, embeddingDim })
  const rnn = lstm({ inputSize: embeddingDim, hiddenSize, batchFirst: true })
  const head = linear({ inFeatures: hiddenSize, outFeatures: V })
  const forward = (params: Params, tokens: Tensor, h0?: Tensor, c0?: Tensor): { logits: Tensor; hN: Tensor; cN: Tensor } => {
    const x = embed.apply(params.get('embed') as Params, tokens)
    const { output, hN, cN } = rnn.apply(params.get('lstm') as Params, x, { h0, c0 })
    return { logits: head.apply(params.get('head') as Params, output), hN, cN }
  }

  const streamLength = Math.floor((ids.length - 1) / batch)
  const windows = Math.floor(streamLength / seqLen)
  const windowAt = (k: number): { input: Tensor; target: Tensor } => {
    const input = new Int32Array(batch * seqLen)
    const target = new Int32Array(batch * seqLen)
    for (let b = 0; b < batch; b++) {
      const start = b * streamLength + k * seqLen
      input.set(ids.subarray(start, start + seqLen), b * seqLen)
      target.set(ids.subarray(start + 1, start + seqLen + 1), b * seqLen)
    }
    return { input: tensor(input, { shape: [batch, seqLen] }), target: tensor(target, { shape: [batch * seqLen] }) }
  }

  let carried: { h: Tensor; c: Tensor } | undefined
  const loss = (params: Params, input: Tensor, target: Tensor): Tensor => {
    const out = forward(params, input, carried?.h, carried?.c)
    carried = { h: stopGradient(out.hN), c: stopGradient(out.cN) }
    return crossEntropy(out.logits.reshape([batch * seqLen, V]), target)
  }
  const valueAndGradient = valueAndGrad(loss)
  const opt = adam({ lr: options.lr ?? 0.02 })
  let params = OrderedMap({ embed: embed.init(foldIn(seed, 0)), lstm: rnn.init(foldIn(seed, 1)), head: head.init(foldIn(seed, 2)) }) as Params
  let state = opt.init(params)
  let steps = 0
  const rng = new RandomStream(foldIn(seed, 3))

  /** The prompt's known characters as ids (the first character of the vocabulary when none is known). */
  const promptIds = (prompt: string): Int32Array => {
    const known = [...prompt].filter((ch) => indexOf.has(ch))
    return Int32Array.from(known.length > 0 ? known : [vocab[0]], (ch) => indexOf.get(ch) as number)
  }

  return {
    vocab,
    get steps() {
      return steps
    },
    step() {
      const k = steps % windows
      if (k === 0) carried = undefined // back at the start of the streams: fresh state
      const { input, target } = windowAt(k)
      const [value, grads] = valueAndGradient(params, input, target)
      const clipped = clipGradNorm(grads, 1.0)
      ;({ params, state } = opt.step(params, clipped.grads as Params, state))
      steps++
      return value.item()
    },
    sample(prompt, length) {
      const known = [...prompt].filter((ch) => indexOf.has(ch))
      const start = known.length > 0 ? known : [vocab[0]]
      let out = start.join('')
      let h: Tensor | undefined
      let c: Tensor | undefined
      let next = tensor(
        Int32Array.from(start, (ch) => indexOf.get(ch) as number),
        { shape: [1, start.length] },
      )
      for (let i = 0; i < length; i++) {
        const step = forward(params, next, h, c)
        h = step.hN
        c = step.cN
        const last = step.logits.select(1, step.logits.shape[1] - 1).reshape([V])
        const probs = softmax(last.div(0.7)).data
        let u = rng.nextFloat()
        let k = 0
        while (k < V - 1 && u >= probs[k]) u -= probs[k++]
        out += vocab[k]
        next = tensor(Int32Array.of(k), { shape: [1, 1] })
      }
      return out
    },
    exportModel(prompt) {
      const ids = promptIds(prompt)
      const tokens = tensor(ids, { shape: [1, ids.length] })
      const logits = (p: Params, t: Tensor): Tensor => forward(p, t).logits
      const bytes = exportOnnx(logits, params, [tokens], {
        inputNames: ['tokens'],
        outputNames: ['logits'],
        dynamicAxes: { tokens: { 1: 'seq' }, logits: { 1: 'seq' } },
      })
      return { bytes, tokens: ids, logits: Float32Array.from(logits(params, tokens).data) }
    },
  }
}
