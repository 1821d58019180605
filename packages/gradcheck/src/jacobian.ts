/**
 * The comparison behind `gradcheck` and `gradgradcheck`: the analytic Jacobian
 * (one row per cotangent, through the core's `vjp`), the numeric one (one column per input
 * element, by central differences), their entry-by-entry comparison into a
 * `GradcheckResult`, and the determinism and no-mutation checks. The public entry
 * points, their options and result types are in gradcheck.ts.
 * @module
 */
import { RandomStream, Tensor, noGrad, vjp } from '@graphgrad/core'
import {
  GradcheckError,
  type Leaf,
  checkDTypes,
  collectLeaves,
  elementsToCheck,
  flattenGradients,
  leafLabel,
  oneHot,
  randomLike,
  snapshot,
  unravel,
} from './inputs.ts'
import type { FailureKind, GradcheckFailure, GradcheckResult } from './gradcheck.ts'

/** A check's settings: the `GradcheckOptions` with their defaults filled in, and the order checked. */
export interface Settings {
  eps: number
  atol: number
  rtol: number
  seed: number
  fastMode: boolean
  order: 1 | 2
  maxFailures: number
  maxElements: number
  nondetTol: number
  checkDeterminism: boolean
  checkMutation: boolean
  /** Whether f may be evaluated without recording (false for second order, whose f runs a vjp). */
  numericNoGrad: boolean
}

/** A checked function, its argument types erased. */
export type AnyFn = (...args: never[]) => Tensor

/** Calls `f` on `args`, refusing a result that is not a tensor. */
export function call(f: AnyFn, args: readonly unknown[]): Tensor {
  const out = (f as (...a: unknown[]) => unknown)(...args)
  if (!(out instanceof Tensor)) throw new GradcheckError(`gradcheck: the function must return a Tensor, got ${out === null ? 'null' : typeof out}`)
  return out
}

/** Collects failures and the error maxima. */
class Tally {
  maxAbsError = 0
  maxRelError = 0
  checked = 0
  failureCount = 0
  readonly failures: GradcheckFailure[] = []

  constructor(private readonly s: Settings) {}

  compare(leaf: Leaf, flat: number, output: number[] | null, analytic: number, numeric: number): void {
    const { atol, rtol } = this.s
    const absError = Math.abs(analytic - numeric)
    const relError = absError / Math.max(Math.abs(numeric), rtol > 0 ? atol / rtol : Math.abs(numeric) || 1)
    this.checked++
    const bad = !(absError <= atol + rtol * Math.abs(numeric))
    this.maxAbsError = Math.max(this.maxAbsError, Number.isNaN(absError) ? Infinity : absError)
    this.maxRelError = Math.max(this.maxRelError, Number.isNaN(relError) ? Infinity : relError)
    if (bad) this.fail('mismatch', leaf, flat, output, analytic, numeric, absError, relError)
  }

  fail(
    kind: FailureKind,
    leaf: Leaf,
    flat: number,
    output: number[] | null,
    analytic: number,
    numeric: number,
    absError = Math.abs(analytic - numeric),
    relError = NaN,
  ): void {
    this.failureCount++
    if (this.failures.length >= this.s.maxFailures) return
    const element = unravel(flat, leaf.tensor.shape)
    const where = `${leafLabel(leaf)} element [${element.join(',')}]`
    // A scalar output has one element, so naming it adds nothing.
    const out =
      output === null ? (this.s.order === 2 ? ', along random directions' : ', projected output') : output.length === 0 ? '' : `, output [${output.join(',')}]`
    const message =
      kind === 'mismatch'
        ? `${where}${out}: analytic ${fmt(analytic)} vs numeric ${fmt(numeric)} (abs error ${fmt(absError)})`
        : kind === 'nondeterministic'
          ? `${where}: backward is not deterministic: ${fmt(numeric)} on the first run, ${fmt(analytic)} on the second`
          : kind === 'mutated-input'
            ? `${where}: the function changed the input from ${fmt(numeric)} to ${fmt(analytic)}`
            : `${leafLabel(leaf)}: the gradient's dtype differs from the input's (${leaf.tensor.dtype})`
    this.failures.push({
      kind,
      order: this.s.order,
      input: leaf.input,
      inputName: leaf.inputName,
      param: leaf.param,
      element,
      output,
      analytic,
      numeric,
      absError,
      relError,
      message,
    })
  }

  result(): GradcheckResult {
    const { eps, atol, rtol, seed, fastMode, order } = this.s
    return {
      ok: this.failureCount === 0,
      maxAbsError: this.maxAbsError,
      maxRelError: this.maxRelError,
      failures: this.failures,
      failureCount: this.failureCount,
      checked: this.checked,
      settings: { eps, atol, rtol, seed, fastMode, order },
    }
  }
}

/** A number short enough to read and precise enough to compare. */
function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4 ? String(Number(x.toPrecision(7))) : x.toExponential(4)
}

/** Analytic rows of the Jacobian: one flattened gradient per cotangent. */
function analyticRows(
  f: AnyFn,
  inputs: readonly unknown[],
  cotangents: (out: Tensor) => Tensor[],
  leaves: readonly Leaf[],
  tally: Tally,
): { rows: Float64Array[][]; out: Tensor } {
  // Through `call`, so a result that is not a tensor is a GradcheckError before vjp's own check sees it.
  const [out, pullback] = vjp((...a: unknown[]) => call(f, a), ...inputs)
  const flagged = new Set<number>()
  const rows = cotangents(out).map((c) => {
    const grads = flattenGradients(pullback(c))
    return grads.map((g, k) => {
      if (g.dtype !== leaves[k].tensor.dtype && !flagged.has(k)) {
        flagged.add(k)
        tally.fail('gradient-dtype', leaves[k], 0, null, NaN, NaN)
      }
      return Float64Array.from(g._data)
    })
  })
  return { rows, out }
}

/** One column of the numeric Jacobian: d output / d (leaf k, element j) by central differences. */
function numericColumn(f: AnyFn, leaves: ReturnType<typeof collectLeaves>, k: number, j: number, s: Settings): Float64Array {
  const leaf = leaves.leaves[k].tensor
  const at = (delta: number): { y: Float64Array; x: number } => {
    const data = leaf._data.slice()
    data[j] = leaf._data[j] + delta
    const args = leaves.withLeaf(k, new Tensor(data, leaf.shape))
    const y = s.numericNoGrad ? noGrad(() => call(f, args)) : call(f, args)
    // Copy at once: an output may share storage with the perturbed input (reshape does).
    return { y: Float64Array.from(y._data), x: data[j] }
  }
  const plus = at(s.eps)
  const minus = at(-s.eps)
  // Divide by the step actually taken: x + eps is rounded, and that rounding is not small next to eps.
  const h = plus.x - minus.x
  const col = new Float64Array(plus.y.length)
  for (let i = 0; i < col.length; i++) col[i] = (plus.y[i] - minus.y[i]) / h
  return col
}

/**
 * Compares the analytic Jacobian of `f` at `inputs` with the numeric one, entry by entry (or
 * projected on a random cotangent in fast mode), then checks determinism and no mutation as
 * `s` says; `names` are the arguments' display names.
 */
export function checkFunction(f: AnyFn, inputs: readonly unknown[], s: Settings, names: readonly string[] | undefined, allowFloat32: boolean): GradcheckResult {
  const where = s.order === 1 ? 'gradcheck' : 'gradgradcheck'
  const leaves = collectLeaves(inputs, names, where)
  checkDTypes(leaves.leaves, allowFloat32, where)
  const before = snapshot(leaves.leaves)
  const tally = new Tally(s)
  const rng = new RandomStream(s.seed)
  let projection: Float64Array | null = null

  const { rows, out } = analyticRows(
    f,
    inputs,
    (y) => {
      if (y.dtype === 'int32') throw new GradcheckError(`${where}: the function returns an int32 tensor, which has no gradient`)
      if (y.dtype === 'float32' && !allowFloat32) {
        throw new GradcheckError(
          `${where}: the inputs are float64 but the function returns float32, so finite differences would see float32 rounding noise; keep the computation in float64 or pass { allowFloat32: true }`,
        )
      }
      if (s.fastMode && y.size > 1) {
        const u = randomLike(y.shape, y.dtype, rng)
        projection = Float64Array.from(u._data)
        return [u]
      }
      return Array.from({ length: y.size }, (_, i) => oneHot(y.shape, y.dtype, i, y.size))
    },
    leaves.leaves,
    tally,
  )

  leaves.leaves.forEach((leaf, k) => {
    for (const j of elementsToCheck(leaf.tensor.size, s.maxElements, rng)) {
      const col = numericColumn(f, leaves, k, j, s)
      if (projection !== null) {
        let n = 0
        for (let i = 0; i < col.length; i++) n += projection[i] * col[i]
        tally.compare(leaf, j, null, rows[0][k][j], n)
      } else {
        for (let i = 0; i < col.length; i++) tally.compare(leaf, j, s.order === 2 ? null : unravel(i, out.shape), rows[i][k][j], col[i])
      }
    }
  })

  if (s.checkDeterminism && out.size > 0) {
    const u = randomLike(out.shape, out.dtype, rng)
    const run = (): Tensor[] => flattenGradients(vjp(f as (...a: unknown[]) => Tensor, ...inputs)[1](u))
    const first = run()
    const second = run()
    leaves.leaves.forEach((leaf, k) => {
      const a = second[k]._data
      const b = first[k]._data
      for (let j = 0; j < a.length; j++) {
        if (!(Math.abs(a[j] - b[j]) <= s.nondetTol) && !(Number.isNaN(a[j]) && Number.isNaN(b[j]))) tally.fail('nondeterministic', leaf, j, null, a[j], b[j])
      }
    })
  }

  if (s.checkMutation) {
    leaves.leaves.forEach((leaf, k) => {
      const now = leaf.tensor._data
      for (let j = 0; j < now.length; j++) {
        if (!Object.is(now[j], before[k][j])) tally.fail('mutated-input', leaf, j, null, now[j], before[k][j])
      }
    })
  }
  return tally.result()
}
