/**
 * `pnpm lm sample`: loads a checkpoint and writes text after a prompt (its options: commands.ts).
 * @module
 */
import type { ParsedArgs } from '../shared/args.ts'
import { loadCheckpoint } from './checkpoint.ts'
import { DEFAULT_CHECKPOINT } from './commands.ts'
import { generate } from './sample.ts'

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
