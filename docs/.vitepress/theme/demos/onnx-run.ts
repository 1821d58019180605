/**
 * Runs the live demo's exported model with onnxruntime-web, in the page, on its WebAssembly
 * backend: one thread (no worker to spawn, no SharedArrayBuffer, so no cross-origin isolation
 * needed) and the `.wasm` file served by this site itself, never a CDN. Vite copies
 * `ort-wasm-simd-threaded.wasm` into the built site's assets and gives its URL; the runtime's
 * JavaScript (the WASM build, its glue bundled in) is a chunk of its own, loaded on the first
 * click. Under a Content-Security-Policy it needs `'wasm-unsafe-eval'` (to compile the
 * WebAssembly) and nothing more: no `eval`, no `blob:` workers.
 * @module
 */
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url'

/** ONNX Runtime Web's logits for `tokens`, and how long loading and running took. */
export interface OrtRun {
  /** Row-major `[1, tokens, vocab]`. */
  readonly logits: Float32Array
  readonly dims: readonly number[]
  /** Milliseconds to create the session (compiling the WebAssembly on the first run) and to run it. */
  readonly loadMs: number
  readonly runMs: number
}

/** Loads `bytes` in onnxruntime-web and runs it on `tokens` (fed as int64, as the exported graph declares). */
export async function runWithOrtWeb(bytes: Uint8Array, tokens: Int32Array): Promise<OrtRun> {
  const ort = await import('onnxruntime-web/wasm')
  ort.env.wasm.wasmPaths = { wasm: new URL(wasmUrl, document.baseURI).href }
  ort.env.wasm.numThreads = 1
  ort.env.wasm.proxy = false
  const t0 = performance.now()
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] })
  const t1 = performance.now()
  try {
    const input = new ort.Tensor(
      'int64',
      BigInt64Array.from(tokens, (t) => BigInt(t)),
      [1, tokens.length],
    )
    const out = await session.run({ tokens: input })
    const logits = out.logits
    if (logits === undefined || logits.type !== 'float32')
      throw new Error(`onnxruntime-web: expected a float32 'logits' output, got ${Object.keys(out).join(', ')}`)
    return { logits: logits.data as Float32Array, dims: logits.dims, loadMs: t1 - t0, runMs: performance.now() - t1 }
  } finally {
    await session.release()
  }
}
