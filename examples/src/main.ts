/**
 * The main job (`pnpm start`): train a character-level LSTM language model on a short text
 * about recurrent networks, then let it write. Everything is seeded, so every run prints
 * the same numbers.
 *
 * Training uses truncated backpropagation through time: the text is cut into BATCH parallel
 * streams read window by window, and the LSTM state at the end of one window starts the
 * next. The state is carried with `stopGradient`, so each backward pass stops at the window
 * edge while the forward pass still remembers what came before.
 */
import { OrderedMap } from 'immutable'
import { type Tensor, RandomStream, argmax, foldIn, softmax, stopGradient, tensor, valueAndGrad } from '@graphgrad/core'
import { type Params, crossEntropy, embedding, linear, lstm } from '@graphgrad/layers'
import { adam, clipGradNorm } from '@graphgrad/optim'
import { CORPUS } from './corpus.ts'

const SEED = 7
const STEPS = Number(process.env.STEPS ?? 400)
const BATCH = 8
const SEQ = 32
const HIDDEN = 128

const vocab = [...new Set(CORPUS)].sort()
const ids = Int32Array.from(CORPUS, (ch) => vocab.indexOf(ch))

const embed = embedding({ numEmbeddings: vocab.length, embeddingDim: 32 })
const rnn = lstm({ inputSize: 32, hiddenSize: HIDDEN, batchFirst: true })
const head = linear({ inFeatures: HIDDEN, outFeatures: vocab.length })

/** Parameters nest by sub-layer, so their dotted names are PyTorch's state_dict names. */
function initModel(seed: number): Params {
  return OrderedMap({ embed: embed.init(foldIn(seed, 0)), lstm: rnn.init(foldIn(seed, 1)), head: head.init(foldIn(seed, 2)) }) as Params
}

function logits(params: Params, tokens: Tensor, h0?: Tensor, c0?: Tensor): { logits: Tensor; hN: Tensor; cN: Tensor } {
  const x = embed.apply(params.get('embed') as Params, tokens)
  const { output, hN, cN } = rnn.apply(params.get('lstm') as Params, x, { h0, c0 })
  return { logits: head.apply(params.get('head') as Params, output), hN, cN }
}

/** The text as BATCH parallel streams; window k of every stream is one training batch. */
const STREAM = Math.floor((ids.length - 1) / BATCH)
const WINDOWS = Math.floor(STREAM / SEQ)

function window(k: number): { input: Tensor; target: Tensor } {
  const input = new Int32Array(BATCH * SEQ)
  const target = new Int32Array(BATCH * SEQ)
  for (let b = 0; b < BATCH; b++) {
    const start = b * STREAM + k * SEQ
    input.set(ids.subarray(start, start + SEQ), b * SEQ)
    target.set(ids.subarray(start + 1, start + SEQ + 1), b * SEQ)
  }
  return { input: tensor(input, { shape: [BATCH, SEQ] }), target: tensor(target, { shape: [BATCH * SEQ] }) }
}

/** The LSTM state after the last window, cut from the graph: the next window starts from it. */
let carried: { h: Tensor; c: Tensor } | undefined

function loss(params: Params, input: Tensor, target: Tensor): Tensor {
  const out = logits(params, input, carried?.h, carried?.c)
  carried = { h: stopGradient(out.hN), c: stopGradient(out.cN) }
  return crossEntropy(out.logits.reshape([BATCH * SEQ, vocab.length]), target)
}

/** Greedy-with-temperature sampling, one character at a time, carrying the LSTM state. */
function generate(params: Params, prompt: string, length: number, rng: RandomStream): string {
  let out = prompt
  let h: Tensor | undefined
  let c: Tensor | undefined
  let next = tensor(Int32Array.from(prompt, (ch) => vocab.indexOf(ch)), { shape: [1, prompt.length] })
  for (let i = 0; i < length; i++) {
    const step = logits(params, next, h, c)
    h = stopGradient(step.hN)
    c = stopGradient(step.cN)
    const last = step.logits.select(1, step.logits.shape[1] - 1).reshape([vocab.length])
    const probs = softmax(last.div(0.5)).data
    let u = rng.nextFloat()
    let k = 0
    while (k < probs.length - 1 && u >= probs[k]) u -= probs[k++]
    out += vocab[k]
    next = tensor(Int32Array.of(k), { shape: [1, 1] })
  }
  return out
}

function main(): void {
  const opt = adam({ lr: 1e-2 })
  let params = initModel(SEED)
  let state = opt.init(params)
  const step = valueAndGrad(loss)
  console.log(`graphgrad: character LSTM on ${ids.length} characters, vocabulary ${vocab.length}, hidden ${HIDDEN}`)
  console.log(`truncated BPTT: ${BATCH} streams, windows of ${SEQ} characters, state carried across ${WINDOWS} windows per pass`)
  console.log(`an untrained model scores about ln(${vocab.length}) = ${Math.log(vocab.length).toFixed(3)} nats per character`)
  const t0 = performance.now()
  for (let i = 1; i <= STEPS; i++) {
    const k = (i - 1) % WINDOWS
    if (k === 0) carried = undefined // back at the start of the streams: fresh state
    const { input, target } = window(k)
    const [value, grads] = step(params, input, target)
    const clipped = clipGradNorm(grads as Params, 1.0)
    ;({ params, state } = opt.step(params, clipped.grads as Params, state))
    if (i === 1 || i % 25 === 0) {
      const ms = (performance.now() - t0) / i
      console.log(`step ${String(i).padStart(4)}  loss ${value.item().toFixed(4)}  grad norm ${clipped.totalNorm.toFixed(3)}  ${ms.toFixed(0)} ms/step`)
    }
  }
  let correct = 0
  let lstmState: { h?: Tensor; c?: Tensor } = {}
  for (let k = 0; k < WINDOWS; k++) {
    const { input, target } = window(k)
    const out = logits(params, input, lstmState.h, lstmState.c)
    lstmState = { h: out.hN, c: out.cN }
    correct += argmax(out.logits.reshape([BATCH * SEQ, vocab.length]), 1).equal(target).sum().item()
  }
  console.log(`next-character accuracy over the training text: ${((100 * correct) / (WINDOWS * BATCH * SEQ)).toFixed(1)}%`)
  console.log(`sample: ${JSON.stringify(generate(params, 'the lstm ', 160, new RandomStream(SEED)))}`)
}

main()
