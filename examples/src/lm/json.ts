/**
 * Reading checkpoint JSON defensively: every field is checked for its type and range, and
 * a bad one is an {@link LmError} naming the file and the field, never a crash later on.
 * @module
 */
import { LmError } from './errors.ts'

/** A JSON object being read from `file`, with typed, checked getters. */
export class JsonReader {
  constructor(
    private readonly value: Record<string, unknown>,
    /** The file (and path inside it) named in errors. */
    readonly where: string,
  ) {}

  /** Parses `text` from `file`; anything but a JSON object is a corrupted-file error. */
  static parse(text: string, file: string): JsonReader {
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (e) {
      throw new LmError(`${file} is corrupted: not valid JSON (${(e as Error).message})`)
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new LmError(`${file} is corrupted: expected a JSON object`)
    return new JsonReader(value as Record<string, unknown>, file)
  }

  private fail(key: string, want: string): never {
    throw new LmError(`${this.where}: field '${key}' must be ${want}, got ${JSON.stringify(this.value[key]) ?? 'nothing'}`)
  }

  /** A string field. */
  string(key: string): string {
    const v = this.value[key]
    return typeof v === 'string' ? v : this.fail(key, 'a string')
  }

  /** A finite number field in [min, max]. */
  number(key: string, min = -Infinity, max = Infinity): number {
    const v = this.value[key]
    return typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max ? v : this.fail(key, `a number in [${min}, ${max}]`)
  }

  /** A whole-number field >= min (and <= max, when given). */
  int(key: string, min = 0, max?: number): number {
    const v = this.value[key]
    const want = max === undefined ? `a whole number >= ${min}` : `a whole number in [${min}, ${max}]`
    return typeof v === 'number' && Number.isSafeInteger(v) && v >= min && (max === undefined || v <= max) ? v : this.fail(key, want)
  }

  /** A nested object field. */
  object(key: string): JsonReader {
    const v = this.value[key]
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? new JsonReader(v as Record<string, unknown>, `${this.where} (${key})`)
      : this.fail(key, 'an object')
  }

  /** An array field whose items pass `check` (which names what they must be). */
  array<T>(key: string, want: string, check: (item: unknown) => item is T): T[] {
    const v = this.value[key]
    return Array.isArray(v) && v.every(check) ? v : this.fail(key, `an array of ${want}`)
  }

  /** An array field of objects. */
  objects(key: string): JsonReader[] {
    return this.array(key, 'objects', (x): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x)).map(
      (x, i) => new JsonReader(x, `${this.where} (${key}[${i}])`),
    )
  }
}

/** Whether `x` is a finite number (for {@link JsonReader.array}). */
export function isFiniteNumber(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x)
}

/** Whether `x` is a string (for {@link JsonReader.array}). */
export function isString(x: unknown): x is string {
  return typeof x === 'string'
}
