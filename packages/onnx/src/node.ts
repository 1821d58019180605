/**
 * Node-only helpers, imported as `@graphgrad/onnx/node`: writing an exported model to a file.
 * Kept out of the main entry so that `@graphgrad/onnx` stays browser-safe.
 * @module
 */
import type { Tensor } from '@graphgrad/core'
import { writeFileAtomic } from '@graphgrad/core/node'
import { type ExportOptions, type ExportOutput, exportOnnx } from './export.ts'

/**
 * Exports `f(params, ...exampleInputs)` with {@link exportOnnx} and writes the model to `path`,
 * atomically: the bytes go to a temporary file in the same directory, which is flushed and then
 * renamed over `path`. The model is built before anything touches the disk, so an export error
 * (an unmapped op, a bad option) leaves no file; a failed write removes the temporary file and
 * leaves an existing file at `path` as it was. Resolves to the number of bytes written.
 * @example
 * await saveOnnx('model.onnx', (p, x) => model.apply(p, x), params, [x], { inputNames: ['x'] })
 */
export async function saveOnnx<P, I extends readonly Tensor[]>(
  path: string | URL,
  f: (params: P, ...inputs: I) => ExportOutput,
  params: P,
  exampleInputs: I,
  options: ExportOptions = {},
): Promise<number> {
  const bytes = exportOnnx(f, params, exampleInputs, options)
  try {
    await writeFileAtomic(path, bytes)
  } catch (e) {
    throw new Error(`saveOnnx: could not write the ONNX model to '${String(path)}': ${(e as Error).message}`, { cause: e })
  }
  return bytes.length
}
