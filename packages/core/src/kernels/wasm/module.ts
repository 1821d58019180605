/**
 * A small WebAssembly module emitter: typed locals, a structured instruction builder for
 * the i32/f32/f64/v128 instructions the kernels need, and a module builder that writes
 * the type, import (one memory), function, export and code sections.
 *
 * Kernels are generated as bytes at first use and compiled with `new WebAssembly.Module`,
 * so there is no build step, no toolchain and no .wasm file to ship: the TypeScript that
 * emits the bytes is the source.
 * @module
 */
import { Bytes } from './encoding.ts'

/** A WebAssembly value type. */
export type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128'

const VALTYPE: Record<ValType, number> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b }

/** A local variable (parameters included) of a function being built. */
export interface Local<T extends ValType = ValType> {
  /** Index in the function's local space. */
  readonly index: number
  /** Value type. */
  readonly type: T
}

/** A branch target: the block or loop that `br` / `brIf` jumps to (the end of a block, the top of a loop). */
export interface Label {
  /** Nesting position, used to compute relative branch depths. */
  readonly level: number
}

/** The memory types loads and stores move, with their opcodes and natural alignment (log2 bytes). */
const MEMORY_OPS = {
  i32: { load: [0x28], store: [0x36], align: 2 },
  i64: { load: [0x29], store: [0x37], align: 3 },
  f32: { load: [0x2a], store: [0x38], align: 2 },
  f64: { load: [0x2b], store: [0x39], align: 3 },
  v128: { load: [0xfd, 0x00], store: [0xfd, 0x0b], align: 4 },
} as const

/** Plain instructions without immediates, by name (SIMD ones carry the 0xfd prefix). */
const SIMPLE_OPS = {
  'i32.eqz': [0x45],
  'i32.eq': [0x46],
  'i32.ne': [0x47],
  'i32.lt_s': [0x48],
  'i32.lt_u': [0x49],
  'i32.gt_s': [0x4a],
  'i32.le_s': [0x4c],
  'i32.ge_s': [0x4e],
  'i32.and': [0x71],
  'i32.add': [0x6a],
  'i32.sub': [0x6b],
  'i32.mul': [0x6c],
  'i32.shl': [0x74],
  'i32.shr_u': [0x76],
  'f32.add': [0x92],
  'f32.sub': [0x93],
  'f32.mul': [0x94],
  'f32.div': [0x95],
  'f32.min': [0x96],
  'f32.max': [0x97],
  'f32.gt': [0x5e],
  'f32x4.splat': [0xfd, 0x13],
  'f64x2.splat': [0xfd, 0x14],
  'f32x4.gt': [0xfd, 0x44],
  'v128.and': [0xfd, 0x4e],
  'f32x4.add': [0xfd, 0xe4, 0x01],
  'f32x4.sub': [0xfd, 0xe5, 0x01],
  'f32x4.mul': [0xfd, 0xe6, 0x01],
  'f32x4.div': [0xfd, 0xe7, 0x01],
  'f32x4.min': [0xfd, 0xe8, 0x01],
  'f32x4.max': [0xfd, 0xe9, 0x01],
  'f64x2.add': [0xfd, 0xf0, 0x01],
  'f64x2.mul': [0xfd, 0xf2, 0x01],
  // Relaxed SIMD (a * b + c, fused or not as the engine likes); only engines with the feature validate them.
  'f32x4.relaxed_madd': [0xfd, 0x85, 0x02],
  'f64x2.relaxed_madd': [0xfd, 0x87, 0x02],
  drop: [0x1a],
  select: [0x1b],
  return: [0x0f],
} as const

/** The name of an instruction without immediates that {@link FunctionBuilder.op} emits. */
export type SimpleOp = keyof typeof SIMPLE_OPS

/** Builds one function: its locals and its body, instruction by instruction (stack machine order). */
export class FunctionBuilder {
  /** The function's parameters, as locals. */
  readonly params: readonly Local[]
  private readonly extra: ValType[] = []
  private readonly code = new Bytes()
  private depth = 0

  constructor(
    readonly paramTypes: readonly ValType[],
    readonly resultTypes: readonly ValType[],
  ) {
    this.params = paramTypes.map((type, index) => ({ index, type }))
  }

  /** Declares a new local of `type`, zero-initialised. */
  local<T extends ValType>(type: T): Local<T> {
    this.extra.push(type)
    return { index: this.paramTypes.length + this.extra.length - 1, type }
  }

  /** Emits an instruction that has no immediates. */
  op(name: SimpleOp): this {
    this.code.push(...SIMPLE_OPS[name])
    return this
  }

  /** `local.get`. */
  get(l: Local): this {
    this.code.push(0x20).u32(l.index)
    return this
  }

  /** `local.set`. */
  set(l: Local): this {
    this.code.push(0x21).u32(l.index)
    return this
  }

  /** `local.tee`. */
  tee(l: Local): this {
    this.code.push(0x22).u32(l.index)
    return this
  }

  /** `i32.const`. */
  i32(value: number): this {
    this.code.push(0x41).s32(value)
    return this
  }

  /** `f32.const` / `f64.const`. */
  float(type: 'f32' | 'f64', value: number): this {
    if (type === 'f32') this.code.push(0x43).f32(value)
    else this.code.push(0x44).f64(value)
    return this
  }

  /** `v128.const` with `value` (rounded to float32) in all four f32 lanes. */
  f32x4Const(value: number): this {
    this.code.push(0xfd, 0x0c)
    for (let lane = 0; lane < 4; lane++) this.code.f32(value)
    return this
  }

  /** A load of `type` from the address on the stack plus a constant byte `offset`. */
  load(type: keyof typeof MEMORY_OPS, offset = 0): this {
    const m = MEMORY_OPS[type]
    this.code
      .push(...m.load)
      .u32(m.align)
      .u32(offset)
    return this
  }

  /** A store of `type` (address, then value on the stack) at a constant byte `offset`. */
  store(type: keyof typeof MEMORY_OPS, offset = 0): this {
    const m = MEMORY_OPS[type]
    this.code
      .push(...m.store)
      .u32(m.align)
      .u32(offset)
    return this
  }

  /** `v128.load32_splat` / `v128.load64_splat`: one lane loaded and broadcast to all lanes. */
  loadSplat(bits: 32 | 64, offset = 0): this {
    this.code
      .push(0xfd, bits === 32 ? 0x09 : 0x0a)
      .u32(bits === 32 ? 2 : 3)
      .u32(offset)
    return this
  }

  /** `i8x16.shuffle` of the two vectors on the stack: 16 byte-lane indices (0-15 first, 16-31 second). */
  simdShuffle(lanes: readonly number[]): this {
    if (lanes.length !== 16 || lanes.some((l) => !Number.isInteger(l) || l < 0 || l > 31)) throw new RangeError(`wasm: bad shuffle lanes ${lanes.join(',')}`)
    this.code.push(0xfd, 0x0d, ...lanes)
    return this
  }

  /** `memory.copy` (bulk memory): copies `n` bytes from `src` to `dst` (stack: dst, src, n), overlaps allowed. */
  memoryCopy(): this {
    this.code.push(0xfc, 0x0a, 0x00, 0x00)
    return this
  }

  /** `local += value` for an i32 local. */
  increment(l: Local<'i32'>, value: number | Local<'i32'>): this {
    this.get(l)
    if (typeof value === 'number') this.i32(value)
    else this.get(value)
    return this.op('i32.add').set(l)
  }

  /** A `block`: `br`/`brIf` to its label jump past its end. */
  block(body: (end: Label) => void): this {
    return this.structured(0x02, body)
  }

  /** A `loop`: `br`/`brIf` to its label jump back to its top. */
  loop(body: (top: Label) => void): this {
    return this.structured(0x03, body)
  }

  /** An `if` over the i32 on the stack, with an optional `else`. */
  if(then: () => void, otherwise?: () => void): this {
    this.code.push(0x04, 0x40)
    this.depth++
    then()
    if (otherwise !== undefined) {
      this.code.push(0x05)
      otherwise()
    }
    this.depth--
    this.code.push(0x0b)
    return this
  }

  /** `br` to a label of an enclosing block or loop. */
  br(label: Label): this {
    this.code.push(0x0c).u32(this.relative(label))
    return this
  }

  /** `br_if` to a label of an enclosing block or loop. */
  brIf(label: Label): this {
    this.code.push(0x0d).u32(this.relative(label))
    return this
  }

  /** `call` of a function by its index in the module. */
  call(index: number): this {
    this.code.push(0x10).u32(index)
    return this
  }

  /** The encoded function body (locals declaration, code, `end`). */
  encode(): Bytes {
    const groups: Bytes[] = []
    for (let i = 0; i < this.extra.length;) {
      let j = i
      while (j < this.extra.length && this.extra[j] === this.extra[i]) j++
      groups.push(new Bytes().u32(j - i).push(VALTYPE[this.extra[i]]))
      i = j
    }
    const body = new Bytes().vector(groups).append(this.code).push(0x0b)
    return new Bytes().u32(body.length).append(body)
  }

  private structured(opcode: number, body: (label: Label) => void): this {
    this.code.push(opcode, 0x40)
    const label = { level: this.depth++ }
    body(label)
    this.depth--
    this.code.push(0x0b)
    return this
  }

  private relative(label: Label): number {
    if (label.level >= this.depth) throw new Error('wasm: branch to a label that is not enclosing')
    return this.depth - 1 - label.level
  }
}

/** The most pages a wasm32 memory can have (4 GiB): a shared memory import declares it as its maximum, so any shared memory fits. */
const MAX_PAGES = 65536

/**
 * Builds a module that imports one memory (`env.memory`) and exports functions. With `shared`,
 * the import is a shared memory (limits flag 0x03, which needs a maximum), which only a
 * `WebAssembly.Memory({ shared: true, ... })` satisfies, and an unshared import only an unshared one.
 */
export class ModuleBuilder {
  private readonly functions: { name: string; fn: FunctionBuilder }[] = []

  constructor(private readonly shared = false) {}

  /** Adds a function exported as `name` and returns its builder and its index (for `call`). */
  function(name: string, params: readonly ValType[], results: readonly ValType[] = []): { fn: FunctionBuilder; index: number } {
    const fn = new FunctionBuilder(params, results)
    this.functions.push({ name, fn })
    return { fn, index: this.functions.length - 1 }
  }

  /** The module's bytes. */
  encode(): Uint8Array<ArrayBuffer> {
    const types: string[] = []
    const typeIndex = this.functions.map(({ fn }) => {
      const key = `${fn.paramTypes.join(',')}>${fn.resultTypes.join(',')}`
      if (!types.includes(key)) types.push(key)
      return types.indexOf(key)
    })
    const typeEntries = types.map((key) => {
      const [params, results] = key.split('>').map((s) => (s === '' ? [] : (s.split(',') as ValType[])))
      return new Bytes()
        .push(0x60)
        .u32(params.length)
        .push(...params.map((t) => VALTYPE[t]))
        .u32(results.length)
        .push(...results.map((t) => VALTYPE[t]))
    })
    const memoryImport = new Bytes().name('env').name('memory').push(0x02)
    if (this.shared) memoryImport.push(0x03).u32(1).u32(MAX_PAGES)
    else memoryImport.push(0x00).u32(1)
    const exports = this.functions.map(({ name }, i) => new Bytes().name(name).push(0x00).u32(i))
    const out = new Bytes().push(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00)
    const section = (id: number, content: Bytes): void => {
      out.push(id).u32(content.length).append(content)
    }
    section(1, new Bytes().vector(typeEntries))
    section(2, new Bytes().vector([memoryImport]))
    section(3, new Bytes().u32(typeIndex.length).append(Uint8Array.from(typeIndex.flatMap((t) => [...new Bytes().u32(t).bytes()]))))
    section(7, new Bytes().vector(exports))
    section(10, new Bytes().vector(this.functions.map(({ fn }) => fn.encode())))
    return out.bytes()
  }
}
