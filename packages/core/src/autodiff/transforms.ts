/**
 * Function transforms: grad, valueAndGrad, vjp and jvp, over tensors, arrays of tensors
 * and Immutable.js maps of tensors.
 * @module
 */
import { GradientError, fmtShape } from '../errors.ts'
import { Tensor, beginGraphGeneration, dropHeldGraph, endGraphGeneration, holdGraphGeneration } from '../tensor.ts'
import { type TensorTree, flattenTree } from '../tree.ts'
import { zerosLike, onesLike } from '../creation.ts'
import { backward } from './backward.ts'
import { activeTransforms, inTransform, lastNoGradientOp, makeOutput, refuseAsync, stopGradient, withRecording } from './recording.ts'
import { add, mul } from '../ops/binary.ts'
import { sum } from '../ops/reduce.ts'
import { astype } from '../ops/cast.ts'
import { shapesEqual } from '../shape.ts'

/** Options of {@link grad} and {@link valueAndGrad}. */
export interface GradOptions {
  /** Which positional arguments to differentiate (default 0). An array gives a tuple of gradients. */
  argnums?: number | readonly number[]
}

/** The gradient(s) a transform returns: one tree, or a tuple of trees when `argnums` is an array. */
export type Gradients = TensorTree | TensorTree[]

/** A fresh leaf standing for `x` inside one transform; connected to x when an outer transform traces x. */
function traceLeaf(x: Tensor, where: string): Tensor {
  if (x.dtype === 'int32') {
    throw new GradientError(`${where}: cannot differentiate with respect to an int32 tensor of shape ${fmtShape(x.shape)} (cast it to float first)`)
  }
  if (x.requiresGrad) return withRecording(true, () => makeOutput('input', [x], x._data, x.shape, (g) => [g]))
  return new Tensor(x._data, x.shape, true, null)
}

interface Traced {
  args: unknown[]
  leaves: Tensor[][]
  rebuild: ((leaves: readonly Tensor[]) => TensorTree)[]
}

function traceArgs(args: readonly unknown[], argnums: readonly number[], where: string): Traced {
  const traced = args.slice()
  const leaves: Tensor[][] = []
  const rebuild: ((l: readonly Tensor[]) => TensorTree)[] = []
  for (const i of argnums) {
    if (i < 0 || i >= args.length || !Number.isInteger(i)) throw new GradientError(`${where}: argnums ${i} is out of range for ${args.length} arguments`)
    const flat = flattenTree(args[i], `${where} argument ${i}`)
    const l = flat.leaves.map((x) => traceLeaf(x, where))
    leaves.push(l)
    rebuild.push((x) => flat.rebuild(x))
    traced[i] = flat.rebuild(l)
  }
  return { args: traced, leaves, rebuild }
}

function checkScalar(out: unknown, where: string): Tensor {
  refuseAsync(out, where)
  if (!(out instanceof Tensor)) throw new GradientError(`${where}: the function must return a Tensor, got ${typeof out}`)
  if (out.size !== 1)
    throw new GradientError(`${where}: the function must return a scalar (one element), got shape ${fmtShape(out.shape)}; reduce it (sum, mean) or use vjp`)
  if (out.dtype === 'int32') {
    // Name the op that cut the graph, when one did: usually the comparison or argmax that made the int32.
    const cut = lastNoGradientOp()
    const why = cut === null ? '' : ` (the last op without a gradient on the way was ${cut.op}: ${cut.reason})`
    throw new GradientError(`${where}: the function returned an int32 tensor, which has no gradient${why}`)
  }
  return out
}

function gradientsOf(out: Tensor, cotangent: Tensor, traced: Traced, retainGraph: boolean): TensorTree[] {
  const all = traced.leaves.flat()
  const grads = backward(out, cotangent, all, { retainGraph })
  let k = 0
  return traced.leaves.map((leaves, j) => traced.rebuild[j](leaves.map((leaf) => grads[k++] ?? zerosLike(leaf))))
}

/** Detaches a result unless another transform still needs its graph. */
function release(t: Tensor): Tensor {
  return activeTransforms() > 1 ? t : stopGradient(t)
}

/**
 * Returns a function that computes `[f(...args), gradient]`, the gradient being taken with
 * respect to argument `argnums` (default 0) and returned in that argument's structure.
 * `f` must return a scalar tensor. Without `argnums` the gradient has the first argument's
 * type; with `argnums` an array, it is a tuple of trees.
 *
 * Transforms are synchronous: `f` runs to completion inside the call, and the recording state
 * is restored when it returns. An `async` function (one returning a Promise) is refused with a
 * {@link GradientError}; await what you need first, then differentiate.
 */
export function valueAndGrad<A extends [TensorTree, ...unknown[]]>(f: (...args: A) => Tensor): (...args: A) => [Tensor, A[0]]
export function valueAndGrad<A extends unknown[]>(f: (...args: A) => Tensor, options?: GradOptions): (...args: A) => [Tensor, Gradients]
export function valueAndGrad<A extends unknown[]>(f: (...args: A) => Tensor, options: GradOptions = {}): (...args: A) => [Tensor, Gradients] {
  const nums = options.argnums ?? 0
  const list = typeof nums === 'number' ? [nums] : [...nums]
  return (...args: A) =>
    inTransform(() => {
      const traced = traceArgs(args, list, 'grad')
      const out = checkScalar(f(...(traced.args as A)), 'grad')
      const grads = gradientsOf(out, onesLike(out), traced, false)
      return [release(out), typeof nums === 'number' ? grads[0] : grads]
    }, true)
}

/**
 * Returns a function that computes the gradient of the scalar function `f` with respect to
 * argument `argnums` (default 0), in that argument's structure. Nest it for higher
 * derivatives: `grad((x) => grad(f)(x).sum())`. Synchronous, as {@link valueAndGrad}: an
 * `f` returning a Promise is refused.
 */
export function grad<A extends [TensorTree, ...unknown[]]>(f: (...args: A) => Tensor): (...args: A) => A[0]
export function grad<A extends unknown[]>(f: (...args: A) => Tensor, options?: GradOptions): (...args: A) => Gradients
export function grad<A extends unknown[]>(f: (...args: A) => Tensor, options: GradOptions = {}): (...args: A) => Gradients {
  const vg = valueAndGrad(f, options)
  return (...args: A) => vg(...args)[1]
}

/**
 * Evaluates `f(...primals)` and returns its output with a pullback: `pullback(cotangent)`
 * gives the cotangent of every primal (each in its structure). The pullback may be called
 * more than once. `f` must be synchronous (see {@link valueAndGrad}).
 */
export function vjp<A extends unknown[]>(f: (...args: A) => Tensor, ...primals: A): [Tensor, (cotangent: Tensor) => TensorTree[]] {
  return vjpOf('vjp', f, primals)
}

// A pullback's graph counts in liveGraphNodes() for as long as the pullback can be called.
const heldGraphs = new FinalizationRegistry<number>(dropHeldGraph)

/** {@link vjp}, its errors naming `where` (jvp runs through it). */
function vjpOf<A extends unknown[]>(where: string, f: (...args: A) => Tensor, primals: A): [Tensor, (cotangent: Tensor) => TensorTree[]] {
  const argnums = primals.map((_, i) => i)
  let traced: Traced | undefined
  // An outermost vjp gets a generation of its own, so that the nodes it records can stop
  // counting when its pullback is collected (on an error, at once).
  const outermost = activeTransforms() === 0
  if (outermost) beginGraphGeneration()
  let out: Tensor
  try {
    out = inTransform(() => {
      traced = traceArgs(primals, argnums, where)
      const y = f(...(traced.args as A))
      refuseAsync(y, where)
      if (!(y instanceof Tensor)) throw new GradientError(`${where}: the function must return a Tensor, got ${typeof y}`)
      return y
    })
  } catch (e) {
    if (outermost) endGraphGeneration()
    throw e
  }
  const held = outermost ? holdGraphGeneration() : 0
  const t = traced as Traced
  const pullback = (cotangent: Tensor): TensorTree[] => {
    if (!(cotangent instanceof Tensor) || !shapesEqual(cotangent.shape, out.shape)) {
      throw new GradientError(
        `${where}: the cotangent must have the output's shape ${fmtShape(out.shape)}, got ${cotangent instanceof Tensor ? fmtShape(cotangent.shape) : typeof cotangent}`,
      )
    }
    return inTransform(() => gradientsOf(out, astype(cotangent, out.dtype), t, true))
  }
  if (held > 0) heldGraphs.register(pullback, held)
  return [release(out), pullback]
}

/**
 * Forward-mode product: returns `[f(...primals), J tangents]`, where `tangents` has one
 * tree per primal. Computed as the VJP of the VJP (the pullback is linear in its cotangent).
 */
export function jvp<A extends unknown[]>(f: (...args: A) => Tensor, primals: A, tangents: readonly TensorTree[]): [Tensor, Tensor] {
  if (tangents.length !== primals.length) throw new GradientError(`jvp: ${primals.length} primals but ${tangents.length} tangents`)
  return inTransform(() => {
    const [out, pullback] = vjpOf('jvp', f, primals)
    const u = traceLeaf(zerosLike(out), 'jvp')
    const pulled = pullback(u)
    let dot: Tensor | null = null
    for (let i = 0; i < pulled.length; i++) {
      const gs = flattenTree(pulled[i]).leaves
      const ts = flattenTree(tangents[i], 'jvp tangents').leaves
      for (let j = 0; j < gs.length; j++) {
        if (ts[j] === undefined || !shapesEqual(ts[j].shape, gs[j].shape)) {
          throw new GradientError(`jvp: tangent ${i} does not match primal ${i}: expected shape ${fmtShape(gs[j].shape)}`)
        }
        const term = sum(mul(gs[j], ts[j]))
        dot = dot === null ? term : add(dot, term)
      }
    }
    if (dot === null) return [release(out), zerosLike(out)]
    const [tangentOut] = backward(dot, onesLike(dot), [u])
    return [release(out), release(tangentOut ?? zerosLike(out))]
  }, true)
}
