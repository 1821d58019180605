/**
 * `pnpm lm sample`: loads a checkpoint (or, with `--onnx`, an exported model run by ONNX
 * Runtime) and writes text after a prompt (its options: commands.ts).
 * @module
 */
import { UsageError, type ParsedArgs } from '../shared/args.ts'
import { DEFAULT_CHECKPOINT } from './commands.ts'
import type { GenerateOptions } from './sample.ts'
import type { Vocabulary } from './vocabulary.ts'

/** Runs `pnpm lm sample`: prints the prompt and its continuation. */
export async function sampleCommand(args: ParsedArgs, out: { write(text: string): void }): Promise<void> {
  const onnx = args.string('onnx')
  if (onnx !== undefined && args.given.has('checkpoint')) throw new UsageError('--checkpoint samples a checkpoint and --onnx an exported model; give only one')
  const options = (vocab: Vocabulary): { prompt: string; ids: Int32Array; options: GenerateOptions } => {
    const prompt = args.string('prompt') ?? (vocab.has('\n') ? '\n' : vocab.chars[0])
    const ids = vocab.encode(prompt, 'the prompt')
    return {
      prompt,
      ids,
      options: { length: args.number('length'), temperature: args.number('temperature'), topK: args.number('top-k'), seed: args.number('seed') },
    }
  }
  if (onnx !== undefined) {
    const { generateOnnx, loadOnnxModel, loadOrt } = await import('./onnx-sample.ts')
    const model = await loadOnnxModel(onnx)
    const ort = await loadOrt()
    const vocab = model.sidecar.vocabulary
    const o = options(vocab)
    out.write(`${o.prompt}${vocab.decode(await generateOnnx(ort, model.bytes, model.sidecar, o.ids, o.options, onnx))}\n`)
    return
  }
  const [{ loadCheckpoint }, { generate }] = await Promise.all([import('./checkpoint.ts'), import('./sample.ts')])
  const saved = await loadCheckpoint(args.string('checkpoint') ?? DEFAULT_CHECKPOINT)
  const vocab = saved.vocabulary
  const o = options(vocab)
  out.write(`${o.prompt}${vocab.decode(generate(saved.charModel, saved.state.params, o.ids, o.options))}\n`)
}
