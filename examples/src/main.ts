/**
 * The main job (`pnpm start`): train a character-level LSTM language model on a short text
 * about recurrent networks, then let it write. Everything is seeded, so every run prints
 * the same numbers.
 */
import { OrderedMap } from 'immutable'
import { type Tensor, RandomStream, argmax, foldIn, softmax, stopGradient, tensor, valueAndGrad } from '@graphgrad/core'
import { type Params, crossEntropy, embedding, linear, lstm } from '@graphgrad/layers'
import { adam, clipGradNorm } from '@graphgrad/optim'
import { CORPUS } from './corpus.ts'

const SEED = 7
const STEPS = Number(process.env.STEPS ?? 300)
const BATCH = 16
const SEQ = 48
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

function batch(rng: RandomStream): { input: Tensor; target: Tensor } {
  const input = new Int32Array(BATCH * SEQ)
  const target = new Int32Array(BATCH * SEQ)
  for (let b = 0; b < BATCH; b++) {
    const start = rng.nextInt(0, ids.length - SEQ - 1)
    input.set(ids.subarray(start, start + SEQ), b * SEQ)
    target.set(ids.subarray(start + 1, start + SEQ + 1), b * SEQ)
  }
  return { input: tensor(input, { shape: [BATCH, SEQ] }), target: tensor(target, { shape: [BATCH * SEQ] }) }
}

const loss = (params: Params, input: Tensor, target: Tensor): Tensor =>
  crossEntropy(logits(params, input).logits.reshape([BATCH * SEQ, vocab.length]), target)

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
  const rng = new RandomStream(foldIn(SEED, 99))
  console.log(`graphgrad: character LSTM on ${ids.length} characters, vocabulary ${vocab.length}, hidden ${HIDDEN}, batch ${BATCH}x${SEQ}`)
  console.log(`an untrained model scores about ln(${vocab.length}) = ${Math.log(vocab.length).toFixed(3)} nats per character`)
  const t0 = performance.now()
  for (let i = 1; i <= STEPS; i++) {
    const { input, target } = batch(rng)
    const [value, grads] = step(params, input, target)
    const clipped = clipGradNorm(grads as Params, 1.0)
    ;({ params, state } = opt.step(params, clipped.grads as Params, state))
    if (i === 1 || i % 25 === 0) {
      const ms = (performance.now() - t0) / i
      console.log(`step ${String(i).padStart(4)}  loss ${value.item().toFixed(4)}  grad norm ${clipped.totalNorm.toFixed(3)}  ${ms.toFixed(0)} ms/step`)
    }
  }
  const check = batch(new RandomStream(foldIn(SEED, 1234)))
  const accuracy = argmax(logits(params, check.input).logits.reshape([BATCH * SEQ, vocab.length]), 1).equal(check.target).astype('float32').mean().item()
  console.log(`next-character accuracy on a held-out draw: ${(100 * accuracy).toFixed(1)}%`)
  console.log(`sample: ${JSON.stringify(generate(params, 'the lstm ', 160, new RandomStream(SEED)))}`)
}

main()
