// A worker of the WASM GEMM's thread pool (see pool.ts, which documents the protocol). Plain
// JavaScript without imports, shipped as is: it must load unchanged from the sources (under tsx
// and under vitest, whose transform does not reach nested workers), from the built package in
// Node, and as a module Web Worker that a bundler copies or bundles (no eval, no blob: URL).
//
// The main thread posts one message, { memory, modules, control }: the shared WebAssembly.Memory,
// the compiled kernel modules (one per precision) and the control words. From then on the
// worker never returns to its event loop: it claims chunks of the current product, runs the
// kernel calls listed for each, and sleeps in Atomics.wait when there is nothing to claim.

// Indices into the control words; pool.ts has the same list.
const JOB = 0
const DONE = 1
const PRECISION = 2
const TABLE = 3
const STOP = 4
const FAILED = 5
const BY_WORKERS = 6
const STARTED = 7
const SPIN = 8
const LENGTH = 10
const PAGE = 65536
// Rounds a worker waits for its view of a just-grown memory before it reports the part failed.
const GROWTH_ROUNDS = 1e7
// Int32 words per listed kernel call: the kernel's number, then up to ten arguments.
const CALL_WORDS = 11

function runChunk(words, kernels, table, chunk) {
  const [packA, packB, macro] = kernels
  const end = words[table + 2 * chunk + 1]
  for (let p = words[table + 2 * chunk]; p < end; p += CALL_WORDS) {
    const op = words[p]
    if (op === 2)
      macro(words[p + 1], words[p + 2], words[p + 3], words[p + 4], words[p + 5], words[p + 6], words[p + 7], words[p + 8], words[p + 9], words[p + 10])
    else (op === 0 ? packA : packB)(words[p + 1], words[p + 2], words[p + 3], words[p + 4], words[p + 5], words[p + 6])
  }
}

function serve({ memory, modules, control }) {
  const ctl = new Int32Array(control)
  const kernels = modules.map((module) => {
    const x = new WebAssembly.Instance(module, { env: { memory } }).exports
    return [x.packA, x.packB, x.macro]
  })
  let words = new Int32Array(memory.buffer)
  Atomics.add(ctl, STARTED, 1)
  for (;;) {
    if (Atomics.load(ctl, STOP) !== 0) return
    const job = Atomics.load(ctl, JOB)
    const chunks = (job >> 8) & 0xff
    const index = job & 0xff
    if (index < chunks) {
      // Claiming is a compare-and-swap on the whole word, so a claim always belongs to the job the word describes.
      if (Atomics.compareExchange(ctl, JOB, job, job + 1) !== job) continue
      try {
        // The caller may have grown the memory for this product; a stale view would read no calls.
        const length = Atomics.load(ctl, LENGTH) * PAGE
        for (let round = 0; words.byteLength < length; round++) {
          if (memory.buffer.byteLength >= length) words = new Int32Array(memory.buffer)
          else if (round > GROWTH_ROUNDS) throw new RangeError('the shared memory did not grow here')
        }
        runChunk(words, kernels[Atomics.load(ctl, PRECISION)], Atomics.load(ctl, TABLE) >> 2, index)
      } catch {
        Atomics.add(ctl, FAILED, 1)
      } finally {
        Atomics.add(ctl, BY_WORKERS, 1)
        if (Atomics.add(ctl, DONE, 1) + 1 === chunks) Atomics.notify(ctl, DONE)
      }
      continue
    }
    // Nothing to claim: look again for a short while (the next product often follows at once), then sleep until the word changes.
    for (let spin = Atomics.load(ctl, SPIN); spin > 0 && Atomics.load(ctl, JOB) === job; spin--);
    Atomics.wait(ctl, JOB, job)
  }
}

const nodeThreads = globalThis.process?.getBuiltinModule?.('node:worker_threads')
if (nodeThreads?.parentPort) nodeThreads.parentPort.once('message', serve)
else globalThis.addEventListener('message', (event) => serve(event.data), { once: true })
