/**
 * `pnpm lm train`: trains the character model on a text (by default the project's own
 * documentation), printing progress, validation loss and bits per character, and samples,
 * and writing checkpoints; `--resume` continues a run from its checkpoint with exactly
 * the numbers the uninterrupted run would have had.
 * @module
 */
import { constants } from 'node:fs'
import { access, mkdir } from 'node:fs/promises'
import { resolve } from 'node:path'
import { type CommandSpec, type ParsedArgs, UsageError } from '../shared/args.ts'
import { splitTokens } from './batching.ts'
import { type Checkpoint, type CheckpointMeta, hasCheckpoint, loadCheckpoint, saveCheckpoint } from './checkpoint.ts'
import { type Corpus, projectDocsCorpus, readCorpusFile } from './corpus.ts'
import { LmError } from './errors.ts'
import { evaluate } from './evaluate.ts'
import { type ModelConfig, charModel, parameterCount } from './model.ts'
import { ProgressBar, type ProgressSink } from '../shared/progress.ts'
import { generate } from './sample.ts'
import { type TrainConfig, type TrainState, type ValidationPoint, sampleKey, trainer } from './train.ts'
import { Vocabulary } from './vocabulary.ts'

/** Where checkpoints go unless `--checkpoint` says otherwise (relative to the working directory). */
export const DEFAULT_CHECKPOINT = 'out/lm'

/** Options that define the run: given with `--resume`, they must equal the checkpoint's. */
const RUN_OPTIONS: readonly [string, (m: CheckpointMeta) => number][] = [
  ['batch', (m) => m.training.batch], ['seq', (m) => m.training.seq], ['lr', (m) => m.training.lr], ['clip', (m) => m.training.clip],
  ['seed', (m) => m.training.seed], ['val-fraction', (m) => m.training.valFraction], ['embed', (m) => m.model.embedDim],
  ['hidden', (m) => m.model.hidden], ['layers', (m) => m.model.layers], ['dropout', (m) => m.model.dropout],
]

/** The options of `pnpm lm train`. */
export const TRAIN_COMMAND: CommandSpec = {
  usage: 'pnpm lm train',
  summary: 'Trains a character-level LSTM language model (embedding, LSTM layers, linear head) with truncated BPTT.',
  options: [
    { name: 'text', kind: 'string', value: 'FILE', help: 'UTF-8 text to learn (default: the project\'s documentation, README.md and docs/**/*.md, read now)' },
    { name: 'checkpoint', kind: 'string', value: 'DIR', default: DEFAULT_CHECKPOINT, help: 'checkpoint directory (weights, optimizer state, vocabulary, progress)' },
    { name: 'resume', kind: 'flag', help: 'continue the run saved in --checkpoint up to --steps' },
    { name: 'force', kind: 'flag', help: 'start afresh even if --checkpoint already holds a run (it is replaced)' },
    { name: 'steps', kind: 'int', default: 500, min: 1, help: 'train until this many steps are done' },
    { name: 'batch', kind: 'int', default: 16, min: 1, max: 4096, help: 'parallel streams of text per batch' },
    { name: 'seq', kind: 'int', default: 64, min: 1, max: 100000, help: 'characters per window (truncation length of BPTT)' },
    { name: 'embed', kind: 'int', default: 32, min: 1, max: 100000, help: 'width of the character embedding' },
    { name: 'hidden', kind: 'int', default: 128, min: 1, max: 100000, help: 'hidden size of each LSTM layer' },
    { name: 'layers', kind: 'int', default: 2, min: 1, max: 64, help: 'stacked LSTM layers' },
    { name: 'dropout', kind: 'number', default: 0, min: 0, max: 0.99, help: 'dropout between LSTM layers while training' },
    { name: 'lr', kind: 'number', default: 0.01, min: 0, minExclusive: true, help: 'Adam\'s learning rate' },
    { name: 'clip', kind: 'number', default: 1, min: 0, minExclusive: true, help: 'largest total gradient norm' },
    { name: 'seed', kind: 'int', default: 0, min: 0, help: 'seed of the initial weights and dropout masks' },
    { name: 'val-fraction', kind: 'number', default: 0.1, min: 0, max: 0.9, minExclusive: true, help: 'share of the text, at its end, held out for validation' },
    { name: 'eval-every', kind: 'int', default: 100, min: 1, help: 'measure validation loss every this many steps (and at the end)' },
    { name: 'sample-every', kind: 'int', default: 100, min: 1, help: 'print a sample every this many steps (and at the end)' },
    { name: 'sample-length', kind: 'int', default: 200, min: 0, max: 100000, help: 'characters per printed sample' },
    { name: 'temperature', kind: 'number', default: 0.7, min: 0, help: 'temperature of the printed samples' },
    { name: 'checkpoint-every', kind: 'int', default: 100, min: 1, help: 'save a checkpoint every this many steps (and at the end)' },
    { name: 'log-every', kind: 'int', default: 10, min: 1, help: 'when the output is not a terminal, print progress every this many steps' },
  ],
  notes: [
    'examples:',
    '  pnpm lm train                                   # the project\'s docs, default settings',
    '  pnpm lm train --text book.txt --checkpoint runs/book --steps 2000',
    '  pnpm lm train --checkpoint runs/book --steps 4000 --resume',
  ],
}

/** Runs `pnpm lm train` with parsed options; `root` is where the default corpus is gathered. */
export async function trainCommand(args: ParsedArgs, out: ProgressSink, root: string): Promise<void> {
  const dir = args.string('checkpoint') ?? DEFAULT_CHECKPOINT
  const steps = args.number('steps')
  const resume = args.flag('resume')
  if (resume && args.flag('force')) throw new UsageError('--resume continues the run in --checkpoint and --force replaces it; give only one')
  const { meta, corpus, state: saved } = resume ? await resumedRun(args, dir, root) : await newRun(args, dir, root)
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
  say(`training: ${batch} streams x ${seq} characters per step (${run.streams.windows} windows per pass), Adam lr ${lr}, gradient norm clipped at ${clip}, seed ${seed}`)
  say(`an untrained model scores about ln(${v}) = ${Math.log(v).toFixed(3)} nats = ${Math.log2(v).toFixed(2)} bits per character`)
  if (resume) say(`resuming ${dir} at step ${state.step}`)
  if (state.step >= steps) {
    say(`${dir} is already at step ${state.step} (--steps ${steps}): nothing to do`)
    return
  }
  // Fail now, not after the first hundred steps, if the checkpoint cannot be written.
  await writable(dir)
  const prompt = meta.vocabulary.has('\n') ? '\n' : meta.vocabulary.chars[0]
  const bar = new ProgressBar(out, { start: state.step, total: steps, scoreLabel: 'bpc', every: args.number('log-every') })
  // On a terminal the bar's line must end before anything else is printed, an error message included.
  try {
    while (state.step < steps) {
      state = run.step(state)
      const step = state.step
      const loss = state.losses.get(step - 1, NaN)
      if (!Number.isFinite(loss)) throw new LmError(`the loss became ${loss} at step ${step}; try a smaller --lr or --clip`)
      // One window's loss is noisy (windows differ in difficulty): the bar shows the mean of the last few.
      const recent = state.losses.slice(-Math.min(step, args.number('log-every')))
      const mean = recent.reduce((a, b) => a + b, 0) / recent.size
      bar.update({ step, loss: mean, score: mean / Math.LN2 })
      const last = step === steps
      if (step % args.number('eval-every') === 0 || last) {
        const e = evaluate(model, state.params, split.validation, batch, seq)
        state = { ...state, validation: state.validation.push({ step, loss: e.loss, bpc: e.bpc }) }
        bar.log(`step ${step}: validation loss ${e.loss.toFixed(4)} nats, ${e.bpc.toFixed(3)} bits per character`)
      }
      if (step % args.number('sample-every') === 0 || last) {
        const written = generate(model, state.params, meta.vocabulary.encode(prompt, 'the sample prompt'), { length: args.number('sample-length'), temperature: args.number('temperature'), seed: sampleKey(seed, step) })
        bar.log(`step ${step}: sample ${JSON.stringify(meta.vocabulary.decode(written))}`)
      }
      if (step % args.number('checkpoint-every') === 0 || last) {
        await saveCheckpoint(dir, meta, state, run.streams.windows).catch((e: unknown) => {
          throw isFsError(e) ? new LmError(`cannot write the checkpoint to ${dir}: ${e.message}`) : e
        })
        bar.log(`step ${step}: checkpoint saved to ${dir}`)
      }
    }
  } finally {
    bar.finish()
  }
  const final = state.validation.last() as ValidationPoint
  say(`done: ${state.step} steps; validation loss ${final.loss.toFixed(4)} nats, ${final.bpc.toFixed(3)} bits per character; checkpoint in ${dir}`)
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
  const corpus = file === undefined ? projectDocsCorpus(root) : readCorpusFile(file)
  const vocabulary = Vocabulary.fromText(corpus.text)
  const model: ModelConfig = { vocabSize: vocabulary.size, embedDim: args.number('embed'), hidden: args.number('hidden'), layers: args.number('layers'), dropout: args.number('dropout') }
  const training: TrainConfig = { seed: args.number('seed'), batch: args.number('batch'), seq: args.number('seq'), lr: args.number('lr'), clip: args.number('clip'), valFraction: args.number('val-fraction') }
  const info = { source: corpus.source, file: file === undefined ? '' : resolve(file), sha256: corpus.sha256, characters: Array.from(corpus.text).length }
  return { meta: { model, training, vocabulary, corpus: info }, corpus }
}

/** A resumed run: settings and state from the checkpoint, and the same text as before (checked by hash). */
async function resumedRun(args: ParsedArgs, dir: string, root: string): Promise<RunSetup> {
  const saved: Checkpoint = await loadCheckpoint(dir)
  for (const [name, of] of RUN_OPTIONS) {
    if (args.given.has(name) && args.number(name) !== of(saved)) {
      throw new LmError(`--${name} ${args.number(name)} differs from the run in ${dir} (${of(saved)}); a resumed run keeps its settings, so leave it out`)
    }
  }
  const file = args.string('text') ?? saved.corpus.file
  const corpus = file === '' ? projectDocsCorpus(root) : readCorpusFile(file)
  if (corpus.sha256 !== saved.corpus.sha256) {
    throw new LmError(`the text (${corpus.source}) is not the one the run in ${dir} was trained on (${saved.corpus.source}, ${saved.corpus.characters} characters); resuming needs the same text`)
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
