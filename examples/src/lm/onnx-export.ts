/**
 * `pnpm lm export`: writes a checkpoint's model as an ONNX file (through @graphgrad/onnx's
 * exportOnnx: the LSTM layers as ONNX LSTM nodes, the state in and out, batch and sequence
 * dynamic), and its vocabulary beside it (onnx-model.ts). Both files are written atomically.
 * Its options: commands.ts.
 * @module
 */
import { mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import { type Tensor, randint, zeros } from '@graphgrad/core'
import type { Params } from '@graphgrad/layers'
import { exportOnnx } from '@graphgrad/onnx'
import type { ParsedArgs } from '../shared/args.ts'
import { loadCheckpoint } from './checkpoint.ts'
import { DEFAULT_CHECKPOINT, DEFAULT_ONNX } from './commands.ts'
import { LmError } from './errors.ts'
import { writeFileAtomic } from './files.ts'
import type { CharModel } from './model.ts'
import { ONNX_INPUTS, ONNX_OUTPUTS, encodeSidecar, sidecarPath } from './onnx-model.ts'

/** The ONNX bytes of `model` with `params`: tokens, h0, c0 in; logits, hN, cN out. */
export function exportCharModel(model: CharModel, params: Params): Uint8Array {
  const { layers, hidden, vocabSize } = model.config
  // Traced at batch 2, sequence 3; both axes stay symbolic in the graph.
  const example: [Tensor, Tensor, Tensor] = [randint(0, vocabSize, [2, 3], 0), zeros([layers, 2, hidden]), zeros([layers, 2, hidden])]
  const f = (p: Params, tokens: Tensor, h0: Tensor, c0: Tensor): Record<(typeof ONNX_OUTPUTS)[number], Tensor> => {
    const out = model.apply(p, tokens, { h: h0, c: c0 })
    return { logits: out.logits, hN: out.state.h, cN: out.state.c }
  }
  const batch = { 1: 'batch' }
  return exportOnnx(f, params, example, {
    inputNames: ONNX_INPUTS,
    outputNames: ONNX_OUTPUTS,
    dynamicAxes: { tokens: { 0: 'batch', 1: 'seq' }, h0: batch, c0: batch, logits: { 0: 'batch', 1: 'seq' }, hN: batch, cN: batch },
  })
}

/** Runs `pnpm lm export`. */
export async function exportCommand(args: ParsedArgs, out: { write(text: string): void }): Promise<void> {
  const dir = args.string('checkpoint') ?? DEFAULT_CHECKPOINT
  const file = args.string('out') ?? DEFAULT_ONNX
  if (!file.endsWith('.onnx')) throw new LmError(`--out ${file}: give a file name ending in .onnx`)
  const saved = await loadCheckpoint(dir)
  const bytes = exportCharModel(saved.charModel, saved.state.params)
  const vocab = sidecarPath(file)
  const sidecar = encodeSidecar(file, bytes, { vocabulary: saved.vocabulary, ...saved.model }, { checkpoint: dir, step: saved.state.step })
  try {
    await mkdir(dirname(file), { recursive: true })
    await writeFileAtomic(file, bytes)
    await writeFileAtomic(vocab, sidecar)
  } catch (e) {
    throw new LmError(`cannot write ${file}: ${(e as Error).message}`)
  }
  out.write(`exported ${dir} (step ${saved.state.step}) to ${file} (${bytes.length} bytes, ONNX opset 17) and its vocabulary to ${vocab}\n`)
}
