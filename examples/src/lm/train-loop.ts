/**
 * The loop of `pnpm lm train`: step, validate, sample and save until `--steps` are done,
 * and stop cleanly when that cannot go on:
 *
 * - a loss, a gradient norm or a validation loss that is NaN or infinite stops the run with
 *   one line saying at which step, before anything of that step is saved: the last good
 *   checkpoint stays current (no checkpoint the loader would refuse is ever written);
 * - Ctrl-C (SIGINT) lets the current step (and a save under way) finish, then stops with
 *   one line saying where the last checkpoint is, or that none was written yet; the CLI
 *   then exits 130. The loop yields to the event loop after every step, since a signal's
 *   handler runs only then.
 * @module
 */
import { Interrupted, type SigintWatch } from '../shared/cli.ts'
import { ProgressBar, type ProgressSink } from '../shared/progress.ts'
import { type CheckpointMeta, saveCheckpoint } from './checkpoint.ts'
import { LmError } from './errors.ts'
import { evaluate } from './evaluate.ts'
import type { CharModel } from './model.ts'
import { generate } from './sample.ts'
import { type TrainState, type Trainer, sampleKey } from './train.ts'

/** What the loop needs besides the state: the run, its settings and where its output goes. */
export interface LoopSettings {
  /** The checkpoint directory. */
  readonly dir: string
  readonly meta: CheckpointMeta
  readonly model: CharModel
  readonly run: Trainer
  /** Token ids of the held-out text. */
  readonly validation: Int32Array
  /** The step to stop at. */
  readonly steps: number
  /** The step of the checkpoint in `dir` this run continues from (a resumed run), else undefined. */
  readonly savedStep: number | undefined
  /** Every how many steps to validate, print a sample, save, and print progress without a terminal. */
  readonly every: { readonly eval: number; readonly sample: number; readonly checkpoint: number; readonly log: number }
  /** The printed samples: their prompt, length and temperature. */
  readonly sample: { readonly prompt: string; readonly length: number; readonly temperature: number }
  /** Turns a failed save into the error to report. */
  readonly saveFailed: (e: unknown) => unknown
  /** Ctrl-C, watched since the command started (see {@link watchSigint}). */
  readonly sigint: SigintWatch
}

/** Trains from `state` to `settings.steps`, printing to `out`; returns the final state. */
export async function trainSteps(initial: TrainState, settings: LoopSettings, out: ProgressSink): Promise<TrainState> {
  const { dir, meta, model, run, steps, every, sample, sigint } = settings
  const { batch, seq, seed } = meta.training
  let state = initial
  let saved = settings.savedStep
  // What is on disk, for the line of a run that stops.
  const kept = (): string => (saved === undefined ? 'no checkpoint was written' : `the last checkpoint (step ${saved}) stays in ${dir}`)
  const diverged = (what: string, value: number, step: number): LmError =>
    new LmError(`the ${what} became ${value} at step ${step} (try a smaller --lr or --clip); ${kept()}`)
  const bar = new ProgressBar(out, { start: state.step, total: steps, scoreLabel: 'bpc', every: every.log })
  // On a terminal the bar's line must end before anything else is printed, an error message included.
  try {
    // A Ctrl-C while the run was set up (reading the text, loading the checkpoint) is handled now.
    await sigint.turn()
    while (state.step < steps) {
      if (sigint.received) {
        throw new Interrupted(
          `interrupted at step ${state.step}; ${saved === undefined ? 'no checkpoint was written yet' : `the last checkpoint (step ${saved}) is in ${dir}; continue with --resume`}`,
        )
      }
      state = run.step(state)
      const step = state.step
      const loss = state.losses.get(step - 1, NaN)
      if (!Number.isFinite(loss)) throw diverged('loss', loss, step)
      const norm = state.gradNorms.get(step - 1, NaN)
      if (!Number.isFinite(norm)) throw diverged('gradient norm', norm, step)
      // One window's loss is noisy (windows differ in difficulty): the bar shows the mean of the last few.
      const recent = state.losses.slice(-Math.min(step, every.log))
      const mean = recent.reduce((a, b) => a + b, 0) / recent.size
      bar.update({ step, loss: mean, score: mean / Math.LN2 })
      const last = step === steps
      if (step % every.eval === 0 || last) {
        const e = evaluate(model, state.params, settings.validation, batch, seq)
        // Weights that overflowed can give a finite training loss and a NaN on the held-out text.
        if (!Number.isFinite(e.loss)) throw diverged('validation loss', e.loss, step)
        state = { ...state, validation: state.validation.push({ step, loss: e.loss, bpc: e.bpc }) }
        bar.log(`step ${step}: validation loss ${e.loss.toFixed(4)} nats, ${e.bpc.toFixed(3)} bits per character`)
      }
      if (step % every.sample === 0 || last) {
        const written = generate(model, state.params, meta.vocabulary.encode(sample.prompt, 'the sample prompt'), {
          length: sample.length,
          temperature: sample.temperature,
          seed: sampleKey(seed, step),
        })
        bar.log(`step ${step}: sample ${JSON.stringify(meta.vocabulary.decode(written))}`)
      }
      if (step % every.checkpoint === 0 || last) {
        await saveCheckpoint(dir, meta, state, run.streams.windows).catch((e: unknown) => {
          throw settings.saveFailed(e)
        })
        saved = step
        bar.log(`step ${step}: checkpoint saved to ${dir}`)
      }
      await sigint.turn()
    }
  } finally {
    bar.finish()
  }
  return state
}
