/**
 * gradcheck and gradgradcheck: analytic gradients (the VJP rules, through the core's `vjp`)
 * against central finite differences, plus determinism and no-mutation checks. Here are the
 * entry points, their options and results; the Jacobians and their comparison are in
 * jacobian.ts.
 * @module
 */
import { RandomStream, type Tensor, add, mul, noGrad, sum, vjp, zeros } from '@graphgrad/core'
import { GradcheckError, checkDTypes, collectLeaves, flattenGradients, randomLike } from './inputs.ts'
import { type AnyFn, type Settings, call, checkFunction } from './jacobian.ts'

export { GradcheckError } from './inputs.ts'

/** Options of {@link gradcheck} and {@link gradgradcheck}. */
export interface GradcheckOptions {
  /** Finite-difference step (default 1e-6 for float64, 1e-3 with `allowFloat32`). */
  eps?: number
  /** Absolute tolerance (default 1e-6; 1e-2 with `allowFloat32`). */
  atol?: number
  /** Relative tolerance (default 1e-5; 1e-2 with `allowFloat32`). An entry passes when `|analytic - numeric| <= atol + rtol * |numeric|`. */
  rtol?: number
  /**
   * Project the output on a random cotangent instead of building the full Jacobian row by
   * row: one pullback instead of one per output element. Failures still name the input
   * element; their `output` is null. Use it for functions with large outputs (default false).
   */
  fastMode?: boolean
  /** Seed of the random cotangents and directions (default 0); the same seed gives the same report. */
  seed?: number
  /** Check float32 inputs anyway (with looser defaults); otherwise they are refused. */
  allowFloat32?: boolean
  /** Run the backward pass twice and require identical gradients (default true). */
  checkDeterminism?: boolean
  /** Largest difference tolerated between the two backward passes (default 0: bit-identical). */
  nondetTol?: number
  /** Require that the inputs hold the same values after the check (default true). */
  checkMutation?: boolean
  /** Display names of the arguments, e.g. `['params', 'x']` (default `input 0`, `input 1`, ...). */
  inputNames?: readonly string[]
  /** At most this many failures are listed (default 100); `failureCount` has the total. */
  maxFailures?: number
  /**
   * Check at most this many elements of each input tensor, drawn at random from `seed`
   * (default: all). Finite differences cost two evaluations of f per element, so this keeps
   * a large model's check fast while still covering every parameter tensor.
   */
  maxElements?: number
}

/** What went wrong in a {@link GradcheckFailure}. */
export type FailureKind = 'mismatch' | 'nondeterministic' | 'mutated-input' | 'gradient-dtype'

/** One entry where the check failed. */
export interface GradcheckFailure {
  /**
   * `mismatch`: analytic and numeric derivative differ. `nondeterministic`: two backward
   * passes gave different gradients (`analytic` is the second, `numeric` the first).
   * `mutated-input`: the function changed an input (`analytic` is the value after, `numeric`
   * the value before). `gradient-dtype`: the gradient's dtype differs from the input's.
   */
  readonly kind: FailureKind
  /** 1 for gradcheck, 2 for gradgradcheck. */
  readonly order: 1 | 2
  /** Position of the argument. */
  readonly input: number
  /** Display name of the argument. */
  readonly inputName: string
  /** Parameter name inside the argument (`lstm.weight_hh_l0`), or null when the argument is a tensor. */
  readonly param: string | null
  /** Multi-index of the element in that tensor. */
  readonly element: number[]
  /** Multi-index of the output element, or null when the output was projected (fast mode, second order). */
  readonly output: number[] | null
  /** The derivative from the VJP rules. */
  readonly analytic: number
  /** The derivative from central differences. */
  readonly numeric: number
  /** `|analytic - numeric|`. */
  readonly absError: number
  /** `|analytic - numeric| / max(|numeric|, atol / rtol)` (see {@link GradcheckResult.maxRelError}). */
  readonly relError: number
  /** One readable line, e.g. `input 0 'w' element [3,1], output [0]: analytic 2 vs numeric 1`. */
  readonly message: string
}

/** The outcome of a check. */
export interface GradcheckResult {
  /** True when every entry matched and no other problem was found. */
  readonly ok: boolean
  /** Largest `|analytic - numeric|` over all compared entries. */
  readonly maxAbsError: number
  /**
   * Largest `|analytic - numeric| / max(|numeric|, atol / rtol)`. The floor keeps entries
   * near zero (judged by atol) from dominating; an entry with relative error at most
   * `rtol` always passes, one above `2 * rtol` always fails.
   */
  readonly maxRelError: number
  /** The first `maxFailures` failures, in input and element order. */
  readonly failures: GradcheckFailure[]
  /** How many failures there were in all. */
  readonly failureCount: number
  /** How many Jacobian entries (or projections) were compared. */
  readonly checked: number
  /** The settings used, so a report can say how to reproduce it. */
  readonly settings: {
    readonly eps: number
    readonly atol: number
    readonly rtol: number
    readonly seed: number
    readonly fastMode: boolean
    readonly order: 1 | 2
  }
}

function settingsOf(options: GradcheckOptions, order: 1 | 2): Settings {
  const f32 = options.allowFloat32 === true
  const s: Settings = {
    eps: options.eps ?? (f32 ? 1e-3 : 1e-6),
    atol: options.atol ?? (f32 ? 1e-2 : 1e-6),
    rtol: options.rtol ?? (f32 ? 1e-2 : 1e-5),
    seed: options.seed ?? 0,
    fastMode: options.fastMode ?? false,
    order,
    maxFailures: options.maxFailures ?? 100,
    maxElements: options.maxElements ?? Infinity,
    nondetTol: options.nondetTol ?? 0,
    checkDeterminism: options.checkDeterminism ?? true,
    checkMutation: options.checkMutation ?? true,
    numericNoGrad: order === 1,
  }
  if (!(s.maxElements >= 1)) throw new GradcheckError(`gradcheck: option maxElements must be at least 1, got ${s.maxElements}`)
  for (const k of ['eps', 'atol', 'rtol'] as const) {
    if (!(s[k] >= 0) || (k === 'eps' && s[k] === 0))
      throw new GradcheckError(`gradcheck: option ${k} must be a ${k === 'eps' ? 'positive' : 'non-negative'} number, got ${s[k]}`)
  }
  return s
}

/**
 * Checks the gradients of `f` at `inputs` against central finite differences, as PyTorch's
 * `torch.autograd.gradcheck`, and says where they differ.
 *
 * `f` takes the inputs positionally and returns a tensor (a scalar or any shape). Each input
 * is a float64 tensor, an array of them, or an Immutable.js map of them (a model's
 * parameters), so a whole model can be checked by parameter name. For a tensor output the
 * full Jacobian is compared: one pullback per output element (`fastMode` projects the
 * output on a random cotangent instead). Then backward is run twice to check that it is
 * deterministic, and the inputs are checked to be unchanged.
 *
 * Entry `(analytic a, numeric n)` passes when `|a - n| <= atol + rtol * |n|`. The defaults
 * (eps 1e-6, atol 1e-6, rtol 1e-5) suit float64: a central difference's truncation error is
 * about eps^2 |f'''| / 6 (1e-13) and its rounding error about 1e-16 |f| / eps (1e-10 |f|),
 * both far below the tolerances, while a wrong rule is off by far more.
 *
 * float32 inputs are refused with an explanation (central differences need float64), unless
 * `allowFloat32` is set. int32 inputs are refused too: close over them in `f`. Errors thrown
 * by `f` or by a VJP rule (such as a gradient of the wrong shape) propagate.
 *
 * @example
 * ```ts
 * import { tensor, tanh, mul, sum } from '@graphgrad/core'
 * import { OrderedMap } from 'immutable'
 * import { gradcheck, formatResult } from '@graphgrad/gradcheck'
 *
 * const x = tensor([[0.1, -0.4], [0.3, 0.9]], { dtype: 'float64' })
 * const r = gradcheck((a) => tanh(a), [x])
 * if (!r.ok) console.log(formatResult(r))
 *
 * // A model, by parameter name:
 * const params = OrderedMap({ w: tensor([0.5, -1], { dtype: 'float64' }) })
 * const loss = (p: typeof params, input: typeof x) => sum(mul(p.get('w')!, input))
 * gradcheck(loss, [params, x], { inputNames: ['params', 'x'] })
 * // a wrong rule would be reported as: params 'w' element [1]: analytic 2.4 vs numeric 1.2 (abs error 1.2)
 * ```
 * @returns `{ ok, maxAbsError, maxRelError, failures, failureCount, checked, settings }`.
 */
export function gradcheck<A extends unknown[]>(f: (...inputs: A) => Tensor, inputs: [...A], options: GradcheckOptions = {}): GradcheckResult {
  return checkFunction(f as unknown as AnyFn, inputs, settingsOf(options, 1), options.inputNames, options.allowFloat32 === true)
}

/**
 * Checks second derivatives, as PyTorch's `gradgradcheck`: the gradient of the VJP itself.
 *
 * With a random cotangent `u` for f's output and random directions `w` for each input, the
 * scalar `s(inputs, u) = <vjp(f, inputs)(u), w>` is checked with {@link gradcheck}: its
 * analytic gradient goes through the VJP rules' own VJPs, its numeric one through finite
 * differences of first derivatives. `u` is checked as one more input, named `grad_output`
 * (a VJP must be linear in its cotangent). Failures name the input element whose second
 * derivative is wrong; their `output` is null. Same options as {@link gradcheck}.
 */
export function gradgradcheck<A extends unknown[]>(f: (...inputs: A) => Tensor, inputs: [...A], options: GradcheckOptions = {}): GradcheckResult {
  const s = settingsOf(options, 2)
  const allow = options.allowFloat32 === true
  const leaves = collectLeaves(inputs, options.inputNames, 'gradgradcheck')
  checkDTypes(leaves.leaves, allow, 'gradgradcheck')
  const rng = new RandomStream(s.seed + 0x5bd1e995)
  const out = noGrad(() => call(f as unknown as AnyFn, inputs))
  const u = randomLike(out.shape, out.dtype, rng)
  const w = leaves.leaves.map((l) => randomLike(l.tensor.shape, l.tensor.dtype, rng))
  const n = inputs.length
  const projected = (...args: unknown[]): Tensor => {
    const [, pullback] = vjp(f as unknown as (...a: unknown[]) => Tensor, ...args.slice(0, n))
    const grads = flattenGradients(pullback(args[n] as Tensor))
    let acc: Tensor | null = null
    grads.forEach((g, k) => {
      const term = sum(mul(g, w[k]))
      acc = acc === null ? term : add(acc, term)
    })
    return acc ?? zeros([], { dtype: out.dtype })
  }
  const names = [...inputs.map((_, i) => options.inputNames?.[i] ?? `input ${i}`), 'grad_output']
  return checkFunction(projected, [...inputs, u], s, names, allow)
}
