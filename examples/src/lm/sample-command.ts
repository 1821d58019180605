/**
 * `pnpm lm sample`: loads a checkpoint and writes text after a prompt.
 * @module
 */
import type { CommandSpec, ParsedArgs } from '../shared/args.ts'
import { loadCheckpoint } from './checkpoint.ts'
import { generate } from './sample.ts'
import { DEFAULT_CHECKPOINT } from './train-command.ts'

/** The options of `pnpm lm sample`. */
export const SAMPLE_COMMAND: CommandSpec = {
  usage: 'pnpm lm sample',
  summary: 'Generates text with a trained model: it reads the prompt, then writes one character at a time.',
  options: [
    { name: 'checkpoint', kind: 'string', value: 'DIR', default: DEFAULT_CHECKPOINT, help: 'checkpoint directory written by pnpm lm train' },
    { name: 'prompt', kind: 'string', value: 'TEXT', help: 'text to continue; only characters the model was trained on (default: a newline)' },
    { name: 'temperature', kind: 'number', default: 0.7, min: 0, help: 'below 1: safer, above 1: wilder, 0: always the likeliest character' },
    { name: 'length', kind: 'int', default: 300, min: 0, max: 1000000, help: 'characters to write' },
    { name: 'seed', kind: 'int', default: 0, min: 0, help: 'seed of the draws (the same seed gives the same text)' },
  ],
  notes: ['example:', '  pnpm lm sample --checkpoint out/lm --prompt "The gradient " --temperature 0.5 --length 400'],
}

/** Runs `pnpm lm sample`: prints the prompt and its continuation. */
export async function sampleCommand(args: ParsedArgs, out: { write(text: string): void }): Promise<void> {
  const saved = await loadCheckpoint(args.string('checkpoint') ?? DEFAULT_CHECKPOINT)
  const vocab = saved.vocabulary
  const prompt = args.string('prompt') ?? (vocab.has('\n') ? '\n' : vocab.chars[0])
  const ids = generate(saved.charModel, saved.state.params, vocab.encode(prompt, 'the prompt'), {
    length: args.number('length'),
    temperature: args.number('temperature'),
    seed: args.number('seed'),
  })
  out.write(`${prompt}${vocab.decode(ids)}\n`)
}
