/**
 * `pnpm lm train`: trains the character model on a text (by default the project's own
 * documentation), printing progress, validation loss and bits per character, and samples,
 * and writing checkpoints; `--resume` continues a run from its checkpoint with exactly
 * the numbers the uninterrupted run would have had. Its options: commands.ts.
 * @module
 */
import { constants } from 'node:fs'
import { access, mkdir } from 'node:fs/promises'
import { resolve } from 'node:path'
import { type ParsedArgs, UsageError } from '../shared/args.ts'
import { type SigintWatch, watchSigint } from '../shared/cli.ts'
import type { ProgressSink } from '../shared/progress.ts'
import { machineMemoryLimit } from '../shared/resources.ts'
import type { Checkpoint, CheckpointMeta } from './checkpoint.ts'
import { hasCheckpoint, removeStaleTemporaries } from './checkpoint-dir.ts'
import { DEFAULT_CHECKPOINT } from './commands.ts'
import { builtinCorpus, builtinFile, recordedCorpus } from './builtin-corpus.ts'
import { type Corpus, characterCount, readCorpusFile } from './corpus.ts'
import { LmError } from './errors.ts'
import { trainingProblem } from './limits.ts'
import type { ModelConfig } from './model.ts'
import type { TrainConfig, TrainState, ValidationPoint } from './train.ts'
import { Vocabulary } from './vocabulary.ts'

/** Options that define the run: given with `--resume`, they must equal the checkpoint's. */
const RUN_OPTIONS: readonly [string, (m: CheckpointMeta) => number][] = [
  ['batch', (m) => m.training.batch],
  ['seq', (m) => m.training.seq],
  ['lr', (m) => m.training.lr],
  ['clip', (m) => m.training.clip],
  ['seed', (m) => m.training.seed],
  ['val-fraction', (m) => m.training.valFraction],
  ['embed', (m) => m.model.embedDim],
  ['hidden', (m) => m.model.hidden],
  ['layers', (m) => m.model.layers],
  ['dropout', (m) => m.model.dropout],
]

/** Runs `pnpm lm train` with parsed options; `root` is where the default corpus is gathered. */
export async function trainCommand(args: ParsedArgs, out: ProgressSink, root: string): Promise<void> {
  // From the start, so that a Ctrl-C while the text is read or the checkpoint loaded is answered too.
  const sigint = watchSigint()
  try {
    await train(args, out, root, sigint)
  } finally {
    sigint.stop()
  }
}

async function train(args: ParsedArgs, out: ProgressSink, root: string, sigint: SigintWatch): Promise<void> {
  const dir = args.string('checkpoint') ?? DEFAULT_CHECKPOINT
  const steps = args.number('steps')
  const resume = args.flag('resume')
  if (resume && args.flag('force')) throw new UsageError('--resume continues the run in --checkpoint and --force replaces it; give only one')
  const { meta, corpus, state: saved } = resume ? await resumedRun(args, dir, root) : await newRun(args, dir, root)
  // Before anything is allocated: a run too large for a tensor, a checkpoint or this machine is refused with the estimate.
  const problem = trainingProblem(meta.model, meta.training, corpus.text.length, machineMemoryLimit())
  if (problem !== undefined) throw resume ? new LmError(`the run in ${dir}: ${problem}`) : new UsageError(problem)
  // The model code loads only now: a bad text or size is refused without it, in a fraction of the time.
  const [{ splitTokens }, { charModel, parameterCount }, { trainer }, { trainSteps }, { evaluate }] = await Promise.all([
    import('./batching.ts'),
    import('./model.ts'),
    import('./train.ts'),
    import('./train-loop.ts'),
    import('./evaluate.ts'),
  ])
  const model = charModel(meta.model)
  const ids = meta.vocabulary.encode(corpus.text, corpus.source)
  const split = splitTokens(ids, meta.training.valFraction)
  if (split.validation.length < 2) {
    throw new LmError(`${corpus.source} is too short to hold out a validation part (${ids.length} characters, --val-fraction ${meta.training.valFraction})`)
  }
  const run = trainer(model, meta.training, split.train)
  let state = saved ?? run.init()
  const { batch, seq, lr, clip, seed } = meta.training
  const v = meta.vocabulary.size
  const say = (line: string): void => void out.write(`${line}\n`)
  say(`corpus: ${corpus.source}`)
  say(`  ${ids.length} characters, vocabulary ${v}; ${split.train.length} for training, ${split.validation.length} held out for validation`)
  say(`model: embedding ${meta.model.embedDim}, LSTM ${meta.model.layers} x ${meta.model.hidden}, linear head ${v}: ${parameterCount(state.params)} parameters`)
  say(
    `training: ${batch} streams x ${seq} characters per step (${run.streams.windows} windows per pass), Adam lr ${lr}, gradient norm clipped at ${clip}, seed ${seed}`,
  )
  say(`guessing uniformly scores ln(${v}) = ${Math.log(v).toFixed(3)} nats = ${Math.log2(v).toFixed(2)} bits per character`)
  if (resume) say(`resuming ${dir} at step ${state.step}`)
  if (state.step >= steps) {
    say(`${dir} is already at step ${state.step} (--steps ${steps}): nothing to do`)
    return
  }
  // The baseline the run is measured against: the initial weights (from the seed) on the held-out text.
  const untrained = evaluate(model, run.init().params, split.validation, batch, seq)
  say(`untrained (the initial weights): validation loss ${untrained.loss.toFixed(4)} nats, ${untrained.bpc.toFixed(3)} bits per character`)
  // Fail now, not after the first hundred steps, if the checkpoint cannot be written.
  await writable(dir)
  await removeStaleTemporaries(dir)
  state = await trainSteps(
    state,
    {
      dir,
      meta,
      model,
      run,
      validation: split.validation,
      steps,
      savedStep: saved?.step,
      every: {
        eval: args.number('eval-every'),
        sample: args.number('sample-every'),
        checkpoint: args.number('checkpoint-every'),
        log: args.number('log-every'),
      },
      sample: {
        prompt: meta.vocabulary.has('\n') ? '\n' : meta.vocabulary.chars[0],
        length: args.number('sample-length'),
        temperature: args.number('temperature'),
      },
      saveFailed: (e) => (isFsError(e) ? new LmError(`cannot write the checkpoint to ${dir}: ${e.message}`) : e),
      sigint,
    },
    out,
  )
  const final = state.validation.last() as ValidationPoint
  say(
    `done: ${state.step} steps; validation loss ${final.loss.toFixed(4)} nats, ${final.bpc.toFixed(3)} bits per character (untrained ${untrained.bpc.toFixed(3)}); checkpoint in ${dir}`,
  )
}

/** What a run is, the text it reads, and where a resumed run stands. */
interface RunSetup {
  readonly meta: CheckpointMeta
  readonly corpus: Corpus
  readonly state?: TrainState
}

/** A new run: the text and settings from the options; refuses to replace a saved run unless --force. */
async function newRun(args: ParsedArgs, dir: string, root: string): Promise<RunSetup> {
  if (!args.flag('force') && (await hasCheckpoint(dir))) {
    throw new LmError(`${dir} already holds a run; pass --resume to continue it, --force to replace it, or another --checkpoint`)
  }
  const file = args.string('text')
  if (file !== undefined && args.given.has('corpus')) throw new UsageError('--text trains on a file and --corpus on a built-in text; give only one')
  const builtin = args.string('corpus') ?? 'sotu'
  const corpus = file === undefined ? await builtinCorpus(builtin, root) : readCorpusFile(file)
  const vocabulary = Vocabulary.fromText(corpus.text)
  const model: ModelConfig = {
    vocabSize: vocabulary.size,
    embedDim: args.number('embed'),
    hidden: args.number('hidden'),
    layers: args.number('layers'),
    dropout: args.number('dropout'),
  }
  const training: TrainConfig = {
    seed: args.number('seed'),
    batch: args.number('batch'),
    seq: args.number('seq'),
    lr: args.number('lr'),
    clip: args.number('clip'),
    valFraction: args.number('val-fraction'),
  }
  const info = {
    source: corpus.source,
    file: file === undefined ? builtinFile(builtin) : resolve(file),
    sha256: corpus.sha256,
    characters: characterCount(corpus.text),
  }
  return { meta: { model, training, vocabulary, corpus: info }, corpus }
}

/** A resumed run: settings and state from the checkpoint, and the same text as before (checked by hash). */
async function resumedRun(args: ParsedArgs, dir: string, root: string): Promise<RunSetup> {
  const { loadCheckpoint } = await import('./checkpoint.ts')
  const saved: Checkpoint = await loadCheckpoint(dir)
  for (const [name, of] of RUN_OPTIONS) {
    if (args.given.has(name) && args.number(name) !== of(saved)) {
      throw new LmError(`--${name} ${args.number(name)} differs from the run in ${dir} (${of(saved)}); a resumed run keeps its settings, so leave it out`)
    }
  }
  const text = args.string('text')
  const corpus =
    text !== undefined
      ? readCorpusFile(text)
      : args.given.has('corpus')
        ? await builtinCorpus(args.string('corpus') ?? '', root)
        : await recordedCorpus(saved.corpus.file, root)
  if (corpus.sha256 !== saved.corpus.sha256) {
    throw new LmError(
      `the text (${corpus.source}) is not the one the run in ${dir} was trained on (${saved.corpus.source}, ${saved.corpus.characters} characters); resuming needs the same text`,
    )
  }
  return { meta: saved, corpus, state: saved.state }
}

async function writable(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true })
    await access(dir, constants.W_OK)
  } catch (e) {
    throw isFsError(e) ? new LmError(`cannot write the checkpoint to ${dir}: ${e.message}`) : e
  }
}

function isFsError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string'
}
