/**
 * What `@graphgrad/core/node` resolves to outside Node (a browser bundle): its file helpers need
 * `node:fs`, so importing it there fails at once with a message saying what to use instead,
 * rather than a bundler error about `node:fs` or a crash at the first call.
 * @module
 */
throw new Error(
  "@graphgrad/core/node works in Node.js only (it reads and writes files). In a browser, use loadSafetensors(bytes) and saveSafetensors(params) from '@graphgrad/core' with bytes you fetch or download.",
)
