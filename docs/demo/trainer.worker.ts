/**
 * The live demo's Web Worker: trains the character LSTM off the page's thread and posts
 * every step's loss (and now and then a sample) back, so the page never freezes.
 *
 * Protocol: the page sends `{ type: 'start', text, seed }` and `{ type: 'stop' }`; the worker
 * answers with the {@link TrainerMessage}s below.
 * @module
 */
import { createCharLstm } from './charLstm.ts'

/** What the page sends. */
export type TrainerCommand = { readonly type: 'start'; readonly text: string; readonly seed?: number } | { readonly type: 'stop' }

/** What the worker posts back. */
export type TrainerMessage =
  | { readonly type: 'ready'; readonly vocabSize: number; readonly characters: number }
  | { readonly type: 'step'; readonly step: number; readonly loss: number; readonly msPerStep: number; readonly sample?: string }
  | { readonly type: 'stopped' }
  | { readonly type: 'error'; readonly message: string }

/** Steps between samples, and the most steps one start runs. */
const SAMPLE_EVERY = 25
const MAX_STEPS = 3000

// The worker global, typed by hand: the docs are compiled with the DOM library, not WebWorker's.
const port = self as unknown as { postMessage(m: TrainerMessage): void; onmessage: ((e: MessageEvent<TrainerCommand>) => void) | null }

/** Bumped by every start and stop; a training loop runs only while its own run id is current. */
let currentRun = 0

/** Lets queued messages (a stop) in between steps: a zero-delay task, not clamped like setTimeout. */
function yieldToEvents(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel()
    channel.port1.onmessage = () => resolve()
    channel.port2.postMessage(null)
  })
}

async function train(run: number, text: string, seed: number): Promise<void> {
  const model = createCharLstm(text, { seed })
  port.postMessage({ type: 'ready', vocabSize: model.vocab.length, characters: text.length })
  const t0 = performance.now()
  while (run === currentRun && model.steps < MAX_STEPS) {
    const loss = model.step()
    const step = model.steps
    const sample = step === 1 || step % SAMPLE_EVERY === 0 ? model.sample(text.slice(0, 4), 80) : undefined
    port.postMessage({ type: 'step', step, loss, msPerStep: (performance.now() - t0) / step, sample })
    await yieldToEvents()
  }
  if (run === currentRun) port.postMessage({ type: 'stopped' }) // ran MAX_STEPS
}

port.onmessage = (event) => {
  const command = event.data
  currentRun++
  if (command.type === 'stop') {
    port.postMessage({ type: 'stopped' })
    return
  }
  train(currentRun, command.text, command.seed ?? 0).catch((e: unknown) => {
    port.postMessage({ type: 'error', message: e instanceof Error ? e.message : String(e) })
  })
}
