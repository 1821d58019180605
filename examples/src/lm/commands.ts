/**
 * The command lines of `pnpm lm train` and `pnpm lm sample`: their options, ranges and help.
 * Apart from the commands themselves, so that `--help` and a mistyped option are answered
 * without loading the model code (a fraction of a second instead of most of a second).
 * @module
 */
import type { CommandSpec } from '../shared/args.ts'
import { LIMITS, MAX_PARAMETERS, MAX_TEXT_BYTES } from './limits.ts'

/** Where checkpoints go unless `--checkpoint` says otherwise (relative to the working directory). */
export const DEFAULT_CHECKPOINT = 'out/lm'

/** The options of `pnpm lm train`. */
export const TRAIN_COMMAND: CommandSpec = {
  usage: 'pnpm lm train',
  summary: 'Trains a character-level LSTM language model (embedding, LSTM layers, linear head) with truncated BPTT.',
  options: [
    { name: 'text', kind: 'string', value: 'FILE', help: 'UTF-8 text to learn (default: the --corpus)' },
    {
      name: 'corpus',
      kind: 'string',
      value: 'NAME',
      default: 'sotu',
      help: "the built-in text learnt without --text: sotu (the State of the Union addresses 1992-2021,\n1.1 M characters), sotu-all (all of them, 1790-2021, 10.8 M), docs (the project's documentation)",
    },
    {
      name: 'checkpoint',
      kind: 'string',
      value: 'DIR',
      default: DEFAULT_CHECKPOINT,
      help: 'checkpoint directory (weights, optimizer state, vocabulary, progress)',
    },
    { name: 'resume', kind: 'flag', help: 'continue the run saved in --checkpoint up to --steps' },
    { name: 'force', kind: 'flag', help: 'start afresh even if --checkpoint already holds a run (it is replaced)' },
    { name: 'steps', kind: 'int', default: 500, min: 1, help: 'train until this many steps are done' },
    { name: 'batch', kind: 'int', default: 16, min: 1, max: LIMITS.batch, help: 'parallel streams of text per batch' },
    { name: 'seq', kind: 'int', default: 64, min: 1, max: LIMITS.seq, help: 'characters per window (truncation length of BPTT)' },
    { name: 'embed', kind: 'int', default: 32, min: 1, max: LIMITS.embed, help: 'width of the character embedding' },
    { name: 'hidden', kind: 'int', default: 128, min: 1, max: LIMITS.hidden, help: 'hidden size of each LSTM layer' },
    { name: 'layers', kind: 'int', default: 2, min: 1, max: LIMITS.layers, help: 'stacked LSTM layers' },
    { name: 'dropout', kind: 'number', default: 0, min: 0, max: 0.99, help: 'dropout between LSTM layers while training' },
    { name: 'lr', kind: 'number', default: 0.01, min: 0, minExclusive: true, help: "Adam's learning rate" },
    { name: 'clip', kind: 'number', default: 1, min: 0, minExclusive: true, help: 'largest total gradient norm' },
    { name: 'seed', kind: 'int', default: 0, min: 0, help: 'seed of the initial weights and dropout masks' },
    {
      name: 'val-fraction',
      kind: 'number',
      default: 0.1,
      min: 0,
      max: 0.9,
      minExclusive: true,
      help: 'share of the text, at its end, held out for validation',
    },
    { name: 'eval-every', kind: 'int', default: 100, min: 1, help: 'measure validation loss every this many steps (and at the end)' },
    { name: 'sample-every', kind: 'int', default: 100, min: 1, help: 'print a sample every this many steps (and at the end)' },
    { name: 'sample-length', kind: 'int', default: 200, min: 0, max: 100000, help: 'characters per printed sample' },
    { name: 'temperature', kind: 'number', default: 0.7, min: 0, help: 'temperature of the printed samples' },
    { name: 'checkpoint-every', kind: 'int', default: 100, min: 1, help: 'save a checkpoint every this many steps (and at the end)' },
    { name: 'log-every', kind: 'int', default: 10, min: 1, help: 'when the output is not a terminal, print progress every this many steps' },
  ],
  notes: [
    'examples:',
    '  pnpm lm train                                   # the State of the Union addresses 1992-2021, default settings',
    "  pnpm lm train --corpus docs --checkpoint out/lm-docs   # the project's documentation",
    '  pnpm lm train --text book.txt --checkpoint runs/book --steps 2000',
    '  pnpm lm train --checkpoint runs/book --steps 4000 --resume',
    '',
    `limits: a text of at most ${MAX_TEXT_BYTES / 2 ** 20} MiB; at most ${MAX_PARAMETERS} parameters (so that the checkpoint loads`,
    "back); a run whose estimated memory passes half of this machine's is refused with the estimate.",
    'Ctrl-C stops after the current step, keeping the last checkpoint (continue with --resume).',
  ],
}

/** Where `pnpm lm export` writes unless `--out` says otherwise. */
export const DEFAULT_ONNX = 'out/lm.onnx'

/** The options of `pnpm lm sample`. */
export const SAMPLE_COMMAND: CommandSpec = {
  usage: 'pnpm lm sample',
  summary: 'Generates text with a trained model: it reads the prompt, then writes one character at a time.',
  options: [
    { name: 'checkpoint', kind: 'string', value: 'DIR', default: DEFAULT_CHECKPOINT, help: 'checkpoint directory written by pnpm lm train' },
    {
      name: 'onnx',
      kind: 'string',
      value: 'FILE',
      help: 'sample the model exported by pnpm lm export instead, with ONNX Runtime (onnxruntime-node);\nit gives the text the checkpoint gives for the same options',
    },
    { name: 'prompt', kind: 'string', value: 'TEXT', help: 'text to continue; only characters the model was trained on (default: a newline)' },
    { name: 'temperature', kind: 'number', default: 0.7, min: 0, help: 'below 1: safer, above 1: wilder, 0: always the likeliest character' },
    { name: 'top-k', kind: 'int', default: 0, min: 0, help: 'draw only among the k likeliest characters (0: among all)' },
    { name: 'length', kind: 'int', default: 300, min: 0, max: 1000000, help: 'characters to write' },
    { name: 'seed', kind: 'int', default: 0, min: 0, help: 'seed of the draws (the same seed gives the same text)' },
  ],
  notes: [
    'examples:',
    '  pnpm lm sample --checkpoint out/lm --prompt "The gradient " --temperature 0.5 --length 400',
    '  pnpm lm sample --onnx out/lm.onnx --prompt "The gradient " --temperature 0.8 --top-k 10 --seed 3',
  ],
}

/** The options of `pnpm lm export`. */
export const EXPORT_COMMAND: CommandSpec = {
  usage: 'pnpm lm export',
  summary: 'Exports a trained model as ONNX (opset 17), to run in ONNX Runtime anywhere.',
  options: [
    { name: 'checkpoint', kind: 'string', value: 'DIR', default: DEFAULT_CHECKPOINT, help: 'checkpoint directory written by pnpm lm train' },
    { name: 'out', kind: 'string', value: 'FILE', default: DEFAULT_ONNX, help: 'the ONNX file to write (replaced atomically if it exists)' },
  ],
  notes: [
    'The graph: inputs tokens [batch, seq] (int64), h0 and c0 [layers, batch, hidden] (float32, the LSTM state);',
    'outputs logits [batch, seq, vocabulary], hN and cN (the state after the last character, to feed back in);',
    'batch and seq are dynamic axes, the LSTM layers ONNX LSTM nodes. The vocabulary (token id -> character)',
    'goes beside it, in FILE with .onnx replaced by .vocab.json, which pnpm lm sample --onnx reads.',
    '',
    'example:',
    '  pnpm lm export --checkpoint out/lm --out out/lm.onnx',
  ],
}
