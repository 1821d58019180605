/**
 * What `@graphgrad/onnx/node` resolves to outside Node (a browser bundle): `saveOnnx` writes
 * files with `node:fs`, so importing it there fails at once with a message saying what to use
 * instead, rather than a bundler error about `node:fs` or a crash at the first call.
 * @module
 */
throw new Error(
  "@graphgrad/onnx/node works in Node.js only (it writes files). In a browser, use exportOnnx(f, params, inputs) from '@graphgrad/onnx', which returns the model's bytes (a Uint8Array) to download or hand to onnxruntime-web.",
)
