/**
 * Pieces of error messages shared by the packages through `@graphgrad/core/internal`, so
 * every error words them the same way: a short description of a value (`an array`,
 * `number 3`), and "did you mean ...?" for a mistyped name (PyTorch's snake_case
 * `in_features` for `inFeatures`, a parameter `weigth`).
 * @module
 */
import { ArgumentError } from './errors.ts'

/** snake_case (or torch's `T_max`) to camelCase: `weight_decay` -> `weightDecay`, `T_max` -> `tMax`. */
function camelCase(name: string): string {
  const c = name.replace(/_([a-zA-Z])/g, (_, ch: string) => ch.toUpperCase())
  return c.charAt(0).toLowerCase() + c.slice(1)
}

/** Lower case without `_` and `-`, so `in_features`, `InFeatures` and `infeatures` compare equal. */
function fold(name: string): string {
  return name.toLowerCase().replace(/[_-]/g, '')
}

// Names longer than this are not compared letter by letter: the distance costs length^2.
const MAX_COMPARED_LENGTH = 200

/** Edit distance with adjacent transpositions (`weigth` is 1 from `weight`), or Infinity once it exceeds `limit`. */
function distance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return Infinity
  let prev2: number[] = []
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    let best = i
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let d = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2] + 1)
      row.push(d)
      best = Math.min(best, d)
    }
    if (best > limit) return Infinity
    prev2 = prev
    prev = row
  }
  return prev[b.length] <= limit ? prev[b.length] : Infinity
}

/**
 * The candidate `name` was most likely meant to be, or null when none is close: first its
 * camelCase spelling, then a match ignoring case, `_` and `-`, then the nearest by edit
 * distance (at most 1 for names of up to 5 letters, 2 up to 8, then a third of the length).
 * Ties go to the earlier candidate.
 */
export function nearestName(name: string, candidates: Iterable<string>): string | null {
  const list = [...candidates].filter((c) => c !== name)
  const camel = camelCase(name)
  if (list.includes(camel)) return camel
  const folded = fold(name)
  const sameFold = list.find((c) => fold(c) === folded)
  if (sameFold !== undefined) return sameFold
  if (folded.length === 0 || folded.length > MAX_COMPARED_LENGTH) return null
  const limit = folded.length <= 5 ? 1 : folded.length <= 8 ? 2 : Math.floor(folded.length / 3)
  let best: string | null = null
  let bestDistance = Infinity
  for (const c of list) {
    const d = c.length > MAX_COMPARED_LENGTH ? Infinity : distance(folded, fold(c), Math.min(limit, bestDistance - 1))
    if (d < bestDistance) [best, bestDistance] = [c, d]
  }
  return best
}

/**
 * Throws an {@link ArgumentError} for the first key of `options` that is not in `known`:
 * `linear: unknown option 'in_features' (did you mean 'inFeatures'?)`, or, with nothing
 * close, the list of known options. Also refuses `options` that is not an object.
 */
export function checkOptionKeys(options: unknown, known: readonly string[], where: string): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ArgumentError(`${where}: options must be an object (known options: ${known.join(', ')}), found ${describeValue(options)}`)
  }
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue
    const near = nearestName(key, known)
    const hint = near === null ? ` (known options: ${known.join(', ')})` : ` (did you mean '${near}'?)`
    throw new ArgumentError(`${where}: unknown option '${key}'${hint}`)
  }
}

/**
 * A short description of a value for error messages: `null`, `nothing` (undefined),
 * `an array`, `an object`, `a Float32Array` (an instance, by its class), `the string "x"`
 * (cut at 40 characters), `number 3`.
 */
export function describeValue(x: unknown): string {
  if (x === null) return 'null'
  if (x === undefined) return 'nothing'
  if (Array.isArray(x)) return 'an array'
  if (typeof x === 'object') {
    const ctor = (x as object).constructor?.name
    return ctor === undefined || ctor === 'Object' ? 'an object' : `a ${ctor}`
  }
  if (typeof x === 'string') return `the string ${JSON.stringify(x.length > 40 ? `${x.slice(0, 40)}...` : x)}`
  return `${typeof x} ${String(x)}`
}
