/**
 * Byte-level encoding of WebAssembly binaries: a growable byte sink with the LEB128
 * integer encodings and the length-prefixed vectors the binary format is made of.
 * @module
 */

/** A growable byte sequence that the WASM emitter writes into. */
export class Bytes {
  private buf: Uint8Array<ArrayBuffer> = new Uint8Array(256)
  private len = 0

  /** Number of bytes written so far. */
  get length(): number {
    return this.len
  }

  /** Appends raw bytes. */
  push(...bytes: number[]): this {
    this.ensure(bytes.length)
    for (const b of bytes) this.buf[this.len++] = b
    return this
  }

  /** Appends another byte sequence. */
  append(other: Bytes | Uint8Array): this {
    const src = other instanceof Bytes ? other.bytes() : other
    this.ensure(src.length)
    this.buf.set(src, this.len)
    this.len += src.length
    return this
  }

  /** Unsigned LEB128 (sizes, indices, memory offsets). */
  u32(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`wasm: u32 out of range: ${value}`)
    let v = value
    do {
      const byte = v & 0x7f
      v = Math.floor(v / 128)
      this.push(v === 0 ? byte : byte | 0x80)
    } while (v !== 0)
    return this
  }

  /** Signed LEB128 of a 32-bit integer (`i32.const` immediates). */
  s32(value: number): this {
    if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) throw new RangeError(`wasm: s32 out of range: ${value}`)
    let v = value | 0
    for (;;) {
      const byte = v & 0x7f
      v >>= 7
      const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)
      this.push(done ? byte : byte | 0x80)
      if (done) return this
    }
  }

  /** A little-endian IEEE float32 (`f32.const`). */
  f32(value: number): this {
    const b = new Uint8Array(4)
    new DataView(b.buffer).setFloat32(0, value, true)
    return this.append(b)
  }

  /** A little-endian IEEE float64 (`f64.const`). */
  f64(value: number): this {
    const b = new Uint8Array(8)
    new DataView(b.buffer).setFloat64(0, value, true)
    return this.append(b)
  }

  /** A name: its UTF-8 length, then the bytes. */
  name(text: string): this {
    const utf8 = new TextEncoder().encode(text)
    return this.u32(utf8.length).append(utf8)
  }

  /** A length-prefixed vector of already-encoded items. */
  vector(items: readonly (Bytes | Uint8Array)[]): this {
    this.u32(items.length)
    for (const item of items) this.append(item)
    return this
  }

  /** A copy of the bytes written so far. */
  bytes(): Uint8Array<ArrayBuffer> {
    return this.buf.slice(0, this.len)
  }

  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + extra))
    next.set(this.buf.subarray(0, this.len))
    this.buf = next
  }
}
