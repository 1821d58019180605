/**
 * `pnpm lm sample --onnx FILE`: the model exported by `pnpm lm export`, run by ONNX Runtime
 * (onnxruntime-node) one character at a time with its state fed back in, the characters drawn
 * by the same {@link Sampler} as graphgrad's own sampling: the same options give the same text.
 * @module
 */
import { readFile } from 'node:fs/promises'
import { LmError } from './errors.ts'
import { errorCode } from './checkpoint-dir.ts'
import { type OnnxSidecar, readSidecar, sidecarPath } from './onnx-model.ts'
import { type GenerateOptions, Sampler } from './sample.ts'
import type * as OrtModule from 'onnxruntime-node'

/** The onnxruntime-node module, loaded only when --onnx is given. */
type Ort = typeof OrtModule

/** The version of onnxruntime-node the examples pin (package.json). */
const ORT_VERSION = '1.30.0'

/** Loads onnxruntime-node; its absence (or a broken install) is an {@link LmError} saying how to install it. */
export async function loadOrt(load: () => Promise<Ort> = () => import('onnxruntime-node')): Promise<Ort> {
  try {
    return await load()
  } catch (e) {
    const why = (e as Error).message.split('\n')[0]
    throw new LmError(`--onnx needs onnxruntime-node, which cannot be loaded (${why}); install it with pnpm add onnxruntime-node@${ORT_VERSION}`)
  }
}

/** Reads `file` (a missing or unreadable one is an {@link LmError} naming it and `what` it is). */
async function read(file: string, what: string): Promise<Buffer> {
  return await readFile(file).catch((e: unknown) => {
    if (errorCode(e) === 'ENOENT') throw new LmError(`${file}: no such file (${what})`)
    throw new LmError(`${file} cannot be read (${errorCode(e)}: ${(e as Error).message})`)
  })
}

/** The exported model of `file`: its ONNX bytes and the vocabulary file beside it. */
export async function loadOnnxModel(file: string): Promise<{ readonly bytes: Uint8Array; readonly sidecar: OnnxSidecar }> {
  const buf = await read(file, 'write one with pnpm lm export')
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
  const vocab = sidecarPath(file)
  const text = (await read(vocab, `the vocabulary pnpm lm export writes beside ${file}`)).toString('utf8')
  return { bytes, sidecar: readSidecar(text, vocab, file, bytes) }
}

/** Writes `options.length` token ids after `prompt` with the ONNX model `bytes` in ONNX Runtime; returns only the new ones. */
export async function generateOnnx(
  ort: Ort,
  bytes: Uint8Array,
  sidecar: OnnxSidecar,
  prompt: Int32Array,
  options: GenerateOptions,
  file: string,
): Promise<Int32Array> {
  const sampler = new Sampler(prompt, options)
  let session: OrtModule.InferenceSession
  try {
    // Errors only: ORT warns on stderr about initializers it folds away.
    session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 })
  } catch (e) {
    throw new LmError(`${file}: ONNX Runtime cannot load it (${(e as Error).message.split('\n')[0]})`)
  }
  try {
    const { layers, hidden } = sidecar
    const vocab = sidecar.vocabulary.size
    const out = new Int32Array(options.length)
    let h = new ort.Tensor('float32', new Float32Array(layers * hidden), [layers, 1, hidden])
    let c = new ort.Tensor('float32', new Float32Array(layers * hidden), [layers, 1, hidden])
    let input = Array.from(prompt)
    for (let i = 0; i < out.length; i++) {
      const tokens = new ort.Tensor(
        'int64',
        BigInt64Array.from(input, (v) => BigInt(v)),
        [1, input.length],
      )
      const r = await session.run({ tokens, h0: h, c0: c })
      const logits = r.logits.data as Float32Array
      if (r.logits.dims.join(',') !== `1,${input.length},${vocab}`) {
        throw new LmError(`${file}: its logits are [${r.logits.dims.join(', ')}], not [1, ${input.length}, ${vocab}] as its vocabulary says`)
      }
      out[i] = sampler.pick(logits.subarray((input.length - 1) * vocab))
      h = r.hN as typeof h
      c = r.cN as typeof c
      input = [out[i]]
    }
    return out
  } finally {
    await session.release()
  }
}
