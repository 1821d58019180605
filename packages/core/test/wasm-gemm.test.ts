import { afterEach, describe, expect, it, vi } from 'vitest'
import fc from 'fast-check'
import { ArgumentError, matmul, tensor } from '@graphgrad/core'
import { Bytes } from '../src/kernels/wasm/encoding.ts'
import { ModuleBuilder } from '../src/kernels/wasm/module.ts'
import { WASM_BLOCKING, createWasmGemm } from '../src/kernels/wasm/gemm.ts'
import { gemmModuleBytes } from '../src/kernels/wasm/gemm-module.ts'
import { wasmSimdSupported } from '../src/kernels/wasm/support.ts'
import { gemm, gemmBackend, jsGemm, setGemmBackend, type Gemm } from '../src/kernels/matmul.ts'
import { ARRAY, type Kind, expectProduct, fill, reference } from './gemm-helpers.ts'

describe('wasm encoding', () => {
  it('writes LEB128 as the spec examples', () => {
    expect([...new Bytes().u32(624485).bytes()]).toEqual([0xe5, 0x8e, 0x26])
    expect([...new Bytes().u32(0).bytes()]).toEqual([0])
    expect([...new Bytes().s32(-123456).bytes()]).toEqual([0xc0, 0xbb, 0x78])
    expect([...new Bytes().s32(-1).bytes()]).toEqual([0x7f])
    expect([...new Bytes().s32(64).bytes()]).toEqual([0xc0, 0x00])
    expect(() => new Bytes().u32(-1)).toThrow(RangeError)
  })

  it('emits modules that validate and run', () => {
    const m = new ModuleBuilder()
    const { fn } = m.function('sum', ['i32', 'i32'])
    // memory[p0] = memory[p0] + memory[p1] as f32x4 lanes
    const [p, q] = fn.params
    fn.get(p).get(p).load('v128').get(q).load('v128').op('f32x4.add').store('v128')
    const bytes = m.encode()
    expect(WebAssembly.validate(bytes)).toBe(true)
    const memory = new WebAssembly.Memory({ initial: 1 })
    const sum = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports.sum as (p: number, q: number) => void
    const f = new Float32Array(memory.buffer)
    f.set([1, 2, 3, 4, 10, 20, 30, 40])
    sum(0, 16)
    expect([...f.subarray(0, 4)]).toEqual([11, 22, 33, 44])
  })

  it('encodes the integer, select, splat and tee instructions as the engine reads them', () => {
    const m = new ModuleBuilder()
    const { fn } = m.function('mix', ['i32', 'i32'], ['i32'])
    const [x, y] = fn.params
    const t = fn.local('i32')
    // memory[0..16) = f32x4.splat(1.5), memory[16..32) = f64x2.splat(-2.25)
    fn.i32(0).float('f32', 1.5).op('f32x4.splat').store('v128')
    fn.i32(16).float('f64', -2.25).op('f64x2.splat').store('v128')
    // t = select(x - y, (x << 3) >>> 1, x <u y) * 1000; return t + (x >s y) * 100 + (x != y) * 10 + eqz(y) + (x == y) + (x <= y) * 2
    fn.get(x).get(y).op('i32.sub').get(x).i32(3).op('i32.shl').i32(1).op('i32.shr_u').get(x).get(y).op('i32.lt_u').op('select')
    fn.i32(1000).op('i32.mul').tee(t)
    fn.get(x).get(y).op('i32.gt_s').i32(100).op('i32.mul').op('i32.add')
    fn.get(x).get(y).op('i32.ne').i32(10).op('i32.mul').op('i32.add')
    fn.get(y).op('i32.eqz').op('i32.add')
    fn.get(x).get(y).op('i32.eq').op('i32.add')
    fn.get(x).get(y).op('i32.le_s').i32(2).op('i32.mul').op('i32.add')
    const memory = new WebAssembly.Memory({ initial: 1 })
    const mix = new WebAssembly.Instance(new WebAssembly.Module(m.encode()), { env: { memory } }).exports.mix as (x: number, y: number) => number
    const expected = (a: number, b: number): number =>
      (a >>> 0 < b >>> 0 ? a - b : (a << 3) >>> 1) * 1000 + (a > b ? 100 : 0) + (a !== b ? 10 : 0) + (b === 0 ? 1 : 0) + (a === b ? 1 : 0) + (a <= b ? 2 : 0)
    for (const [a, b] of [
      [5, 3],
      [3, 5],
      [7, 7],
      [-1, 2],
      [4, 0],
    ])
      expect(mix(a, b)).toBe(expected(a, b) | 0)
    expect([...new Float32Array(memory.buffer, 0, 4)]).toEqual([1.5, 1.5, 1.5, 1.5])
    expect([...new Float64Array(memory.buffer, 16, 2)]).toEqual([-2.25, -2.25])
  })

  it('keeps the GEMM modules under the 4 KB that browsers compile synchronously on the main thread', () => {
    for (const p of ['f32', 'f64'] as const) {
      const bytes = gemmModuleBytes(p, WASM_BLOCKING[p])
      expect(WebAssembly.validate(bytes)).toBe(true)
      expect(bytes.length).toBeLessThan(4096)
    }
  })

  it('detects SIMD support (Node 20 has it)', () => {
    expect(wasmSimdSupported()).toBe(true)
  })
})

describe('wasm gemm kernel', () => {
  // Tiny blockings make small shapes cross every block boundary, odd tiles exercise every packing path.
  const kernels: [string, Gemm][] = [
    ['default blocking', createWasmGemm()],
    ['tiny blocks', createWasmGemm({ blocking: { f32: { mr: 3, nr: 8, kc: 5, mc: 6, nc: 16 }, f64: { mr: 3, nr: 4, kc: 3, mc: 9, nc: 8 } } })],
    ['4x4 tiles', createWasmGemm({ blocking: { f32: { mr: 4, nr: 4, kc: 9, mc: 8, nc: 12 }, f64: { mr: 1, nr: 2, kc: 7, mc: 5, nc: 6 } } })],
  ]
  const kind = fc.constantFrom<Kind>('float32', 'float64', 'int32')
  for (const [name, g] of kernels) {
    it(`matches a float64 reference for all transpositions, offsets and dtype mixes (${name})`, () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 40 }),
          fc.integer({ min: 0, max: 40 }),
          fc.integer({ min: 0, max: 40 }),
          fc.boolean(),
          fc.boolean(),
          fc.tuple(kind, kind, kind),
          fc.integer({ min: 0, max: 3 }),
          fc.integer(),
          (M, N, K, ta, tb, [ka, kb, ko], offset, seed) => {
            const a = fill(ka, offset + M * K, seed)
            const b = fill(kb, offset + 1 + K * N, seed + 1)
            const out = new ARRAY[ko](offset + M * N + 2).fill(7)
            g(a, offset, ta, b, offset + 1, tb, out, offset, M, N, K)
            const f32 = ka === 'float32' && kb === 'float32' && ko === 'float32'
            expectProduct(out, offset, reference(a, offset, ta, b, offset + 1, tb, M, N, K), K, f32)
            for (let i = 0; i < offset; i++) expect(out[i]).toBe(7)
            expect([out[offset + M * N], out[offset + M * N + 1]]).toEqual([7, 7])
          },
        ),
        { numRuns: 300 },
      )
    })
  }

  it('agrees with the TypeScript GEMM on large transposed products, float32 and float64', () => {
    const g = createWasmGemm()
    for (const [M, N, K, ta, tb] of [
      [32, 1030, 256, false, true],
      [67, 70, 600, true, false],
      [130, 33, 300, true, true],
    ] as const) {
      for (const kind of ['float32', 'float64'] as const) {
        const a = fill(kind, M * K, M)
        const b = fill(kind, K * N, N)
        const wasm = new ARRAY[kind](M * N)
        const js = new ARRAY[kind](M * N)
        g(a, 0, ta, b, 0, tb, wasm, 0, M, N, K)
        jsGemm(a, 0, ta, b, 0, tb, js, 0, M, N, K)
        expectProduct(wasm, 0, { value: [...js], abs: reference(a, 0, ta, b, 0, tb, M, N, K).abs }, K, kind === 'float32')
      }
    }
  })

  it('grows its memory for a large product and stays correct for smaller ones afterwards', () => {
    const g = createWasmGemm()
    for (const [M, N, K] of [
      [3, 5, 7],
      [300, 280, 260],
      [4, 9, 2],
    ]) {
      const a = fill('float64', M * K, K)
      const b = fill('float64', K * N, N)
      const out = new Float64Array(M * N)
      g(a, 0, false, b, 0, true, out, 0, M, N, K)
      expectProduct(out, 0, reference(a, 0, false, b, 0, true, M, N, K), K, false)
    }
  })

  it('hands products too large for its memory to the fallback, or names them', () => {
    const [M, N, K] = [300, 200, 100]
    const a = fill('float32', M * K, 1)
    const b = fill('float32', K * N, 2)
    const calls: number[] = []
    const fallback: Gemm = (...args) => {
      calls.push(args[8])
      jsGemm(...args)
    }
    const out = new Float32Array(M * N)
    createWasmGemm({ maxBytes: 2 ** 18, fallback })(a, 0, false, b, 0, false, out, 0, M, N, K)
    expect(calls).toEqual([M])
    expectProduct(out, 0, reference(a, 0, false, b, 0, false, M, N, K), K, false)
    expect(() => createWasmGemm({ maxBytes: 2 ** 18 })(a, 0, false, b, 0, false, out, 0, M, N, K)).toThrow(
      /\[300,100\]x\[100,200\] needs \d+ bytes of linear memory, over the 262144-byte limit/,
    )
  })

  it('keeps float64 accumulation when the output is float64', () => {
    const out = new Float64Array(1)
    createWasmGemm()(new Float32Array([1, 2 ** -30, -1]), 0, false, new Float32Array([1, 1, 1]), 0, false, out, 0, 1, 1, 3)
    expect(out[0]).toBe(2 ** -30)
  })
})

describe('gemm backend selection', () => {
  afterEach(() => {
    setGemmBackend('auto')
    vi.unstubAllGlobals()
    vi.unstubAllEnvs()
    vi.resetModules()
  })

  it('defaults to wasm where SIMD exists, switches both ways, and rejects unknown names', () => {
    expect(gemmBackend()).toBe('wasm')
    const a = tensor(Float32Array.from(fill('float32', 6 * 5, 1)), { shape: [6, 5] })
    const b = tensor(Float32Array.from(fill('float32', 5 * 7, 2)), { shape: [5, 7] })
    const onWasm = matmul(a, b)
    setGemmBackend('js')
    expect(gemmBackend()).toBe('js')
    const onJs = matmul(a, b)
    for (let i = 0; i < onJs.size; i++) expect(onWasm._data[i]).toBeCloseTo(onJs._data[i], 5)
    setGemmBackend('wasm')
    expect(gemmBackend()).toBe('wasm')
    expect(() => setGemmBackend('gpu' as 'js')).toThrow(ArgumentError)
    expect(gemmBackend()).toBe('wasm')
  })

  it('falls back to the TypeScript GEMM when WebAssembly SIMD is missing', async () => {
    vi.stubGlobal('WebAssembly', { ...WebAssembly, validate: () => false })
    vi.resetModules()
    const fresh = await import('../src/kernels/matmul.ts')
    expect(fresh.gemmBackend()).toBe('js')
    expect(() => fresh.setGemmBackend('wasm')).toThrow(/128-bit SIMD/)
    const out = new Float64Array(4)
    fresh.gemm(new Float64Array([1, 2, 3, 4]), 0, false, new Float64Array([5, 6, 7, 8]), 0, false, out, 0, 2, 2, 2)
    expect([...out]).toEqual([19, 22, 43, 50])
  })

  it('falls back when there is no WebAssembly at all', async () => {
    vi.stubGlobal('WebAssembly', undefined)
    vi.resetModules()
    const fresh = await import('../src/kernels/matmul.ts')
    expect(fresh.gemmBackend()).toBe('js')
  })

  it('takes GRAPHGRAD_GEMM as the default; a bad value fails at the first product, not at import', async () => {
    vi.stubEnv('GRAPHGRAD_GEMM', 'js')
    vi.resetModules()
    expect((await import('../src/kernels/matmul.ts')).gemmBackend()).toBe('js')
    vi.stubEnv('GRAPHGRAD_GEMM', 'fast')
    vi.resetModules()
    const fresh = await import('../src/kernels/matmul.ts')
    const out = new Float64Array(1)
    const one = new Float64Array([1])
    expect(() => fresh.gemm(one, 0, false, one, 0, false, out, 0, 1, 1, 1)).toThrow(
      /GRAPHGRAD_GEMM='fast': unknown backend 'fast' \(expected 'wasm', 'js' or 'auto'\)/,
    )
    // An explicit choice overrides the bad default.
    fresh.setGemmBackend('js')
    fresh.gemm(one, 0, false, one, 0, false, out, 0, 1, 1, 1)
    expect(out[0]).toBe(1)
  })

  it('uses the TypeScript GEMM when WebAssembly compilation is refused (a CSP without wasm-unsafe-eval)', async () => {
    // What a browser does under such a policy: validation works, compiling throws.
    const Refusing = new Proxy(WebAssembly, {
      get: (target, prop) =>
        prop === 'Module'
          ? function Module(): never {
              throw new WebAssembly.CompileError(
                "WebAssembly.Module(): Refused to compile or instantiate WebAssembly module because 'unsafe-eval' is not an allowed source of script",
              )
            }
          : Reflect.get(target, prop),
    })
    vi.stubGlobal('WebAssembly', Refusing)
    vi.resetModules()
    const fresh = await import('../src/kernels/matmul.ts')
    expect(fresh.gemmBackend()).toBe('js')
    expect(() => fresh.setGemmBackend('wasm')).toThrow(/Content-Security-Policy refuses WebAssembly/)
    const out = new Float32Array(4)
    fresh.gemm(new Float32Array([1, 2, 3, 4]), 0, false, new Float32Array([5, 6, 7, 8]), 0, false, out, 0, 2, 2, 2)
    expect([...out]).toEqual([19, 22, 43, 50])
  })

  it('routes the exported gemm through the chosen backend', () => {
    const a = new Float32Array([1, 2 ** -30, -1])
    const b = new Float32Array([1, 1, 1])
    const out = new Float32Array(1)
    // In float32 arithmetic 1 + 2^-30 rounds to 1, so the float32 (wasm) sum is 0; float64 (js) keeps 2^-30.
    setGemmBackend('wasm')
    gemm(a, 0, false, b, 0, false, out, 0, 1, 1, 3)
    expect(out[0]).toBe(0)
    setGemmBackend('js')
    gemm(a, 0, false, b, 0, false, out, 0, 1, 1, 3)
    expect(out[0]).toBe(Math.fround(2 ** -30))
  })
})
