// The WASM GEMM on several threads: products split across the worker pool give results
// bit-identical to one thread (every C element is computed by the same kernel steps, whoever
// runs it), for all transpositions, both precisions and packed B operands; the thread-count API
// and GRAPHGRAD_THREADS reject bad values by name; and the pool never keeps a process alive.
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { ArgumentError, matmul, numThreads, randn, setNumThreads } from '@graphgrad/core'
import { type WasmGemm, createWasmGemm } from '../src/kernels/wasm/gemm.ts'
import { threadsUnavailable } from '../src/kernels/wasm/pool.ts'
import { gemmThreadStats } from '../src/kernels/matmul.ts'
import { SOURCE_NODE_FLAGS } from '../../../scripts/source-condition.ts'

const root = new URL('../../../', import.meta.url).pathname
const TINY = { f32: { mr: 2, nr: 8, kc: 7, mc: 6, nc: 24 }, f64: { mr: 2, nr: 4, kc: 5, mc: 4, nc: 12 } }

/** Seeded values in [-1, 1): a linear congruential stream. */
function values(ctor: Float32ArrayConstructor | Float64ArrayConstructor, n: number, seed: number): Float32Array | Float64Array {
  const out = new ctor(n)
  let x = seed >>> 0
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0
    out[i] = x / 2 ** 31 - 1
  }
  return out
}

/** The same bits, element by element (so -0 and NaN patterns count too). */
function sameBits(x: Float32Array | Float64Array, y: Float32Array | Float64Array): boolean {
  const bx = new Uint8Array(x.buffer, x.byteOffset, x.byteLength)
  const by = new Uint8Array(y.buffer, y.byteOffset, y.byteLength)
  return bx.length === by.length && bx.every((b, i) => b === by[i])
}

describe('wasm gemm on threads', () => {
  // Splitting from the smallest product up, on 2 and 3 threads (3 parts per product on 2 cores
  // exercise claiming), with the default blocking and with blocks small enough to cross every boundary.
  const single: WasmGemm[] = [createWasmGemm(), createWasmGemm({ blocking: TINY })]
  const threaded: [string, WasmGemm, WasmGemm][] = [
    ['2 threads', single[0], createWasmGemm({ threads: 2, splitMinMacs: 0 })],
    ['3 threads, tiny blocks', single[1], createWasmGemm({ threads: 3, splitMinMacs: 0, blocking: TINY })],
  ]
  afterAll(() => {
    for (const [, , g] of threaded) g.close()
  })
  const precision = fc.constantFrom(Float32Array, Float64Array)

  for (const [name, one, many] of threaded) {
    it(`gives bit-identical products for random shapes, transpositions and both precisions (${name})`, async () => {
      await many.started()
      expect(many.threadCount()).toBeGreaterThan(1)
      fc.assert(
        fc.property(
          // Up to 200 rows: from 128 rows on, B is packed by all threads first (the other split).
          fc.integer({ min: 1, max: 200 }),
          fc.integer({ min: 1, max: 70 }),
          fc.integer({ min: 0, max: 40 }),
          fc.boolean(),
          fc.boolean(),
          precision,
          fc.integer(),
          (M, N, K, ta, tb, ctor, seed) => {
            const a = values(ctor, M * K, seed)
            const b = values(ctor, K * N, seed + 1)
            const [x, y] = [new ctor(M * N), new ctor(M * N)]
            one(a, 0, ta, b, 0, tb, x, 0, M, N, K)
            many(a, 0, ta, b, 0, tb, y, 0, M, N, K)
            expect(sameBits(x, y), `[${M},${K}]x[${K},${N}] ${ta} ${tb} ${ctor.name}`).toBe(true)
          },
        ),
        { numRuns: 300 },
      )
      // The workers took part (the caller runs whatever they do not claim).
      expect(many.partsByWorkers()).toBeGreaterThan(0)
    })

    it(`gives bit-identical products with a packed B, as the recurrent layers use it (${name})`, async () => {
      await many.started()
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 40 }),
          fc.integer({ min: 1, max: 90 }),
          fc.integer({ min: 1, max: 40 }),
          fc.boolean(),
          fc.boolean(),
          precision,
          fc.integer(),
          (M, N, K, ta, tb, ctor, seed) => {
            const b = values(ctor, K * N, seed + 1)
            const packs = [one.packGemmB(b, 0, tb, K, N), many.packGemmB(b, 0, tb, K, N)]
            try {
              for (let step = 0; step < 3; step++) {
                const a = values(ctor, M * K, seed + step)
                const [x, y] = [new ctor(M * N), new ctor(M * N)]
                packs[0].gemm(a, 0, ta, x, 0, M)
                packs[1].gemm(a, 0, ta, y, 0, M)
                expect(sameBits(x, y), `[${M},${K}]x[${K},${N}] ${ta} ${tb} ${ctor.name}`).toBe(true)
              }
            } finally {
              packs[1].release()
              packs[0].release()
            }
          },
        ),
        { numRuns: 150 },
      )
    })
  }

  it('gives bit-identical large products (the default threshold, float32 and float64)', async () => {
    const many = createWasmGemm({ threads: 2 })
    try {
      await many.started()
      for (const [M, N, K] of [
        [32, 1024, 256],
        [300, 70, 260],
        [129, 257, 130],
      ]) {
        for (const ctor of [Float32Array, Float64Array]) {
          const a = values(ctor, M * K, M)
          const b = values(ctor, K * N, N)
          const [x, y] = [new ctor(M * N), new ctor(M * N)]
          single[0](a, 0, false, b, 0, true, x, 0, M, N, K)
          many(a, 0, false, b, 0, true, y, 0, M, N, K)
          expect(sameBits(x, y), `[${M},${K}]x[${K},${N}] ${ctor.name}`).toBe(true)
        }
      }
    } finally {
      many.close()
    }
  })

  it('runs on the calling thread alone after close, with the same results', () => {
    const many = createWasmGemm({ threads: 2, splitMinMacs: 0 })
    many.close()
    expect(many.threadCount()).toBe(1)
    const a = values(Float32Array, 40 * 30, 1)
    const b = values(Float32Array, 30 * 50, 2)
    const [x, y] = [new Float32Array(40 * 50), new Float32Array(40 * 50)]
    single[0](a, 0, false, b, 0, false, x, 0, 40, 50, 30)
    many(a, 0, false, b, 0, false, y, 0, 40, 50, 30)
    expect(sameBits(x, y)).toBe(true)
  })
})

describe('the worker script', () => {
  it('uses the control words and call layout of pool.ts (it has no imports, so it lists them again)', () => {
    const constants = (file: string): string[] =>
      [...readFileSync(new URL(`../src/kernels/wasm/${file}`, import.meta.url), 'utf8').matchAll(/^(?:export )?const ([A-Z_]+) = (\d+)$/gm)].map(
        (m) => `${m[1]}=${m[2]}`,
      )
    const worker = constants('pool-worker.js')
    const host = constants('pool.ts')
    expect(worker.length).toBeGreaterThan(8)
    expect(host).toEqual(expect.arrayContaining(worker))
  })
})

describe('setNumThreads', () => {
  const before = numThreads()
  afterEach(() => setNumThreads(before))

  it('defaults to the available parallelism here (no GRAPHGRAD_THREADS in the test environment)', async () => {
    const { availableParallelism } = await import('node:os')
    expect(process.env.GRAPHGRAD_THREADS ?? '').toBe('')
    expect(before).toBe(Math.min(64, availableParallelism()))
  })

  it('rejects counts that are not whole numbers from 1 to 64, naming the value', () => {
    for (const [bad, shown] of [
      [0, '0'],
      [-1, '-1'],
      [1.5, '1.5'],
      [NaN, 'NaN'],
      [65, '65'],
      [Infinity, 'Infinity'],
      ['x', "'x'"],
      ['2', "'2'"],
    ] as const) {
      expect(() => setNumThreads(bad as number)).toThrow(ArgumentError)
      expect(() => setNumThreads(bad as number)).toThrow(`setNumThreads(${shown}): expected a whole number of threads from 1 to 64`)
    }
    expect(numThreads()).toBe(before)
  })

  it('gives matmul the same bits on 1 and 2 threads, with the workers taking part', async () => {
    const a = randn([96, 200], 1)
    const b = randn([200, 160], 2)
    setNumThreads(1)
    expect(numThreads()).toBe(1)
    const x = matmul(a, b).data as Float32Array
    setNumThreads(2)
    expect(numThreads()).toBe(2)
    // A fresh pool's workers take a while to start; until then the calling thread runs every part.
    const deadline = Date.now() + 20_000
    let y = matmul(a, b).data as Float32Array
    while (gemmThreadStats().partsByWorkers === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20))
      y = matmul(a, b).data as Float32Array
      expect(sameBits(x, y)).toBe(true)
    }
    expect(gemmThreadStats().partsByWorkers).toBeGreaterThan(0)
    expect(sameBits(x, y)).toBe(true)
  })
  it("runs on one thread, saying why, where Node's permission model forbids workers", () => {
    const proc = process as unknown as { permission?: unknown }
    const had = Object.getOwnPropertyDescriptor(process, 'permission')
    Object.defineProperty(process, 'permission', { value: { has: (scope: string) => scope !== 'worker' }, configurable: true })
    try {
      expect(threadsUnavailable()).toMatch(/permission model does not allow worker threads/)
      const g = createWasmGemm({ threads: 2 })
      expect(g.threadCount()).toBe(1)
      g.close()
    } finally {
      if (had === undefined) delete proc.permission
      else Object.defineProperty(process, 'permission', had)
    }
  })
})

/** Runs `script` (an ES module, against the sources) in a child Node with `env` added; resolves with its exit and output. */
function child(
  script: string,
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string; ms: number }> {
  const started = performance.now()
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...SOURCE_NODE_FLAGS, '--input-type=module', '-e', script],
      { cwd: root, env: { ...process.env, ...env }, timeout: timeoutMs, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const e = error as { code?: unknown; signal?: string | null } | null
        resolve({
          code: typeof e?.code === 'number' ? e.code : e === null ? 0 : null,
          signal: e?.signal ?? null,
          stdout,
          stderr,
          ms: performance.now() - started,
        })
      },
    )
  })
}

describe('threads in a process of their own', () => {
  it('sleep when idle and exit on their own: a process that multiplies on 2 threads ends when its work does', async () => {
    const script = [
      "import { createWasmGemm } from './packages/core/src/kernels/wasm/gemm.ts'",
      'const g = createWasmGemm({ threads: 2, splitMinMacs: 0 })',
      'await g.started()',
      'const a = new Float32Array(256 * 256).fill(1)',
      'const out = new Float32Array(256 * 256)',
      'for (let i = 0; i < 20; i++) g(a, 0, false, a, 0, false, out, 0, 256, 256, 256)',
      // Idle, the workers sleep: the process uses next to no CPU while it waits 300 ms (a spinning worker would use about 300 ms).
      'const cpu = process.cpuUsage()',
      'await new Promise((resolve) => setTimeout(resolve, 300))',
      'const idle = process.cpuUsage(cpu)',
      'console.log(g.threadCount(), g.partsByWorkers() > 0, out[0], (idle.user + idle.system) / 1000 < 60)',
    ].join('\n')
    const r = await child(script, {}, 30_000)
    expect(r.signal, r.stderr).toBeNull()
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout.trim()).toBe('2 true 256 true')
    // It ended by itself: the timeout above would have killed a process held open by its workers.
    console.log(`threads: the 2-thread child process exited after ${r.ms.toFixed(0)} ms`)
  })

  it('read GRAPHGRAD_THREADS at the first product, and name it and its value when it is bad', async () => {
    const script = [
      "import { matmul, numThreads, ones } from '@graphgrad/core'",
      'try { console.log(matmul(ones([2, 2]), ones([2, 2])).data[0], numThreads()) } catch (e) { console.log(e.name, e.message) }',
    ].join('\n')
    const runs = await Promise.all(['1', '2', '0', '1.5', 'x', '-1', '65'].map((v) => child(script, { GRAPHGRAD_THREADS: v })))
    expect(runs.map((r) => r.stdout.trim())).toEqual([
      '2 1',
      '2 2',
      ...['0', '1.5', 'x', '-1', '65'].map((v) => `ArgumentError GRAPHGRAD_THREADS='${v}': expected a whole number of threads from 1 to 64`),
    ])
  })
})
