/**
 * The live demo's Web Worker: trains the character LSTM off the page's thread and posts
 * every step's loss (and now and then a sample) back, so the page never freezes.
 *
 * Protocol: the page sends `{ type: 'start', text, seed }`, `{ type: 'stop' }` and
 * `{ type: 'export', prompt }` (the model as it is now, exported to ONNX, with graphgrad's
 * logits for the prompt; training goes on); the worker answers with the {@link TrainerMessage}s below.
 * @module
 */
import { type CharLstmTrainer, type ExportedModel, createCharLstm } from './charLstm.ts'

/** What the page sends. `export` leaves the training running. */
export type TrainerCommand =
  { readonly type: 'start'; readonly text: string; readonly seed?: number } | { readonly type: 'stop' } | { readonly type: 'export'; readonly prompt: string }

/** What the worker posts back. */
export type TrainerMessage =
  | { readonly type: 'ready'; readonly vocabSize: number; readonly characters: number }
  | { readonly type: 'step'; readonly step: number; readonly loss: number; readonly msPerStep: number; readonly sample?: string }
  | { readonly type: 'stopped' }
  | { readonly type: 'exported'; readonly step: number; readonly vocab: readonly string[]; readonly model: ExportedModel }
  | { readonly type: 'exportFailed'; readonly message: string }
  | { readonly type: 'error'; readonly message: string }

/** Steps between samples, and the most steps one start runs. */
const SAMPLE_EVERY = 25
const MAX_STEPS = 3000

// The worker global, typed by hand: the docs are compiled with the DOM library, not WebWorker's.
const port = self as unknown as {
  postMessage(m: TrainerMessage, transfer?: Transferable[]): void
  onmessage: ((e: MessageEvent<TrainerCommand>) => void) | null
}

/** Bumped by every start and stop; a training loop runs only while its own run id is current. */
let currentRun = 0
/** The model of the latest start (what `export` exports), trained or being trained. */
let model: CharLstmTrainer | null = null

/** Lets queued messages (a stop) in between steps: a zero-delay task, not clamped like setTimeout. */
function yieldToEvents(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel()
    channel.port1.onmessage = () => resolve()
    channel.port2.postMessage(null)
  })
}

async function train(run: number, text: string, seed: number): Promise<void> {
  const trainer = createCharLstm(text, { seed })
  model = trainer
  port.postMessage({ type: 'ready', vocabSize: trainer.vocab.length, characters: text.length })
  const t0 = performance.now()
  while (run === currentRun && trainer.steps < MAX_STEPS) {
    const loss = trainer.step()
    const step = trainer.steps
    const sample = step === 1 || step % SAMPLE_EVERY === 0 ? trainer.sample(text.slice(0, 4), 80) : undefined
    port.postMessage({ type: 'step', step, loss, msPerStep: (performance.now() - t0) / step, sample })
    await yieldToEvents()
  }
  if (run === currentRun) port.postMessage({ type: 'stopped' }) // ran MAX_STEPS
}

/** Exports the current model (between two training steps, so its parameters are those of one step) and posts it. */
function exportCurrent(prompt: string): void {
  if (model === null) throw new Error('there is no model to export yet: press Start first')
  const exported = model.exportModel(prompt)
  port.postMessage({ type: 'exported', step: model.steps, vocab: model.vocab, model: exported }, [exported.bytes.buffer as ArrayBuffer])
}

port.onmessage = (event) => {
  const command = event.data
  if (command.type === 'export') {
    try {
      exportCurrent(command.prompt)
    } catch (e) {
      port.postMessage({ type: 'exportFailed', message: e instanceof Error ? e.message : String(e) })
    }
    return
  }
  currentRun++
  if (command.type === 'stop') {
    port.postMessage({ type: 'stopped' })
    return
  }
  train(currentRun, command.text, command.seed ?? 0).catch((e: unknown) => {
    port.postMessage({ type: 'error', message: e instanceof Error ? e.message : String(e) })
  })
}
