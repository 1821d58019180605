/**
 * Optimizers as chained transforms, after optax: a {@link Transform} has `init` (its state
 * slots for one parameter) and `update` (turns the incoming updates into new ones, and its
 * old slots into new ones, without changing either), and {@link chain} runs transforms in
 * order and applies the result, as an {@link Optimizer} with the usual `init` / `step`.
 *
 * **Why a {@link Direction} and not a plain array of updates.** torch.optim does not compute
 * `p + u` with `u` a finished array: AdamW is `p (1 - lr wd) + (-lr / (1 - β1^t)) m / denom`,
 * one rounding per operation in that order. A chain that materialised `u` after every
 * transform would round in other places and could not give torch's bits. So the updates
 * flowing through a chain keep torch's shape: a direction array `u`, an optional element-wise
 * divisor `den`, a scalar factor kept as `scale / divisor` (so `lr / bias-correction` rounds
 * once, as torch's step size), and a decoupled decay rate applied as `p (1 - decay)`. Scalar
 * transforms (the learning rate, a sign) only touch the scalars; a transform that needs the
 * updates as numbers ({@link materialize}) rounds the pending parts in the same order as
 * torch's kernels would. `chain(addDecayedWeights(wd), scaleByAdam(), scaleByLearningRate(lr))`
 * therefore equals `adamw({ lr, weightDecay: wd })` to the last bit (the tests check each
 * named optimizer that has a chain form).
 *
 * **Why the named optimizers keep their fused kernels.** A chain walks the parameter arrays
 * once per transform and allocates a float64 array per step of the way; the fused kernels
 * (kernels.ts) read each element once and write it once, in the parameter's own array class.
 * On the float32 LSTM benchmark that difference is most of an Adam step, so `adam`, `adamw`,
 * ... stay fused (and keep parameter groups, per-option schedules and validation messages);
 * the transforms are the public composition model for optimizers of one's own, and they
 * share the fused kernels' per-element arithmetic, so a chain and a named optimizer agree.
 * Each named optimizer is declared as its chain too (`opt.transforms()`, from its rule's
 * `transforms`), and chain.test.ts runs every test configuration both ways, bit for bit: the
 * fused kernel is an optimisation of the named chain, not a second definition of it.
 * @module
 */
import { OrderedMap } from 'immutable'
import { ArgumentError, ShapeError, Tensor, flattenTree, fmtShape } from '@graphgrad/core'
import { describeValue } from '@graphgrad/core/internal'
import type { Optimizer, OptimizerState, ParamTree, StepResult } from './optimizer.ts'
import { asFloat64, checkFloat, flattenNamed, fromData, gradientOf, slotInput } from './helpers.ts'
import type { Hyper } from './options.ts'

/**
 * One parameter's pending update, in torch's form: the parameter becomes
 * `p (1 - decay) + (-(scale / divisor) u) / den` (`den` absent: no division). A chain starts
 * each parameter at `{ u: gradient, den: null, scale: 1, divisor: 1, decay: 0 }`.
 */
export interface Direction {
  /** The direction, float64 (the gradient, Adam's first moment, ...); never written. */
  readonly u: Float64Array
  /** Element-wise divisor of `u` (Adam's `sqrt(v̂) + eps`), or null for none; never written. */
  readonly den: Float64Array | null
  /** Factor of `u / den` (the learning rate once {@link scaleByLearningRate} ran; -1 to maximize). */
  readonly scale: number
  /** Divisor of `scale`, kept apart so that `scale / divisor` rounds once (Adam's `1 - β1^t`). */
  readonly divisor: number
  /** Decoupled weight decay rate (times the learning rate once it is applied): `p *= 1 - decay`. */
  readonly decay: number
}

/** What {@link Transform.update} receives: one entry per parameter, in the same order in every array. */
export interface TransformInput {
  /** Dotted parameter names. */
  readonly names: readonly string[]
  /** The incoming updates (never written). */
  readonly updates: readonly Direction[]
  /** The parameters' data as float64 (never written). */
  readonly params: readonly Float64Array[]
  /** This transform's state slots of each parameter, as float64 (never written). */
  readonly slots: readonly Readonly<Record<string, Float64Array | undefined>>[]
  /** Updates already done (0 for the first): the argument of a schedule. */
  readonly step: number
}

/** What {@link Transform.update} returns: fresh values, never aliases of arrays it must not write. */
export interface TransformOutput {
  /** The outgoing updates, one per parameter. */
  readonly updates: readonly Direction[]
  /** This transform's new slots of each parameter (a slot left out is dropped). */
  readonly slots: readonly Readonly<Record<string, Float64Array>>[]
}

/**
 * A gradient transformation, optax's `GradientTransformation`: `init` makes a parameter's
 * state slots and `update` maps updates and slots to new ones, purely (inputs untouched).
 * Slot names are torch's (`exp_avg`, ...), so a chain's state reads like the named optimizer's.
 */
export interface Transform {
  /** Name, used in the chain's name and in messages. */
  readonly name: string
  /** Slots every state of this transform has. */
  readonly slots: readonly string[]
  /** Slots that only some updates create (SGD's `momentum_buffer`). */
  readonly optionalSlots?: readonly string[]
  /** The slots of one parameter before the first update (tensors shaped and typed like it). */
  init(param: Tensor): Readonly<Record<string, Tensor>>
  /** One update of all parameters. */
  update(input: TransformInput): TransformOutput
}

/** The value of a hyper-parameter at update `step` (a schedule is called), checked to be a finite number >= 0. */
export function hyperAt(value: Hyper, step: number, where: string, option: string): number {
  const v = typeof value === 'function' ? value(step) : value
  if (typeof v !== 'number' || !(v >= 0 && v < Infinity)) {
    const origin = typeof value === 'function' ? ` (returned by the ${option} schedule at step ${step})` : ''
    throw new ArgumentError(`${where}: invalid ${option} ${typeof v === 'number' ? String(v) : describeValue(v)}${origin}: must be a finite number >= 0`)
  }
  return v
}

/**
 * The updates as numbers: `(scale / divisor) u / den` per element, rounded in the order
 * torch's kernels round (the factor first, then the product, then the division). Returns
 * `d.u` itself when nothing is pending, so a plain gradient costs no copy.
 */
export function materialize(d: Direction): Float64Array {
  if (d.scale === 1 && d.divisor === 1 && d.den === null) return d.u
  const k = d.scale / d.divisor
  const { u, den } = d
  const out = new Float64Array(u.length)
  if (den === null) for (let i = 0; i < u.length; i++) out[i] = k * u[i]
  else for (let i = 0; i < u.length; i++) out[i] = (k * u[i]) / den[i]
  return out
}

/**
 * The new parameter: `p (1 - decay) + (-(scale / divisor) u) / den`, as torch's kernels
 * write it (`p *= 1 - lr wd`, then `p += (-step_size m) / denom`).
 */
function applyDirection(p: Float64Array, d: Direction): Float64Array {
  const { u, den, decay } = d
  const k = d.scale / d.divisor
  const f = 1 - decay
  const out = new Float64Array(p.length)
  for (let i = 0; i < p.length; i++) {
    const pi = decay === 0 ? p[i] : p[i] * f
    const x = -k * u[i]
    out[i] = pi + (den === null ? x : x / den[i])
  }
  return out
}

/**
 * Chains transforms into an optimizer, optax's `chain`: `step` starts every parameter's
 * update at its gradient, passes the updates through the transforms in order, and applies
 * the result ({@link Direction}). Parameters of any float dtype work; the arithmetic is
 * float64 and results are rounded once to the parameter's dtype, as the named optimizers do.
 * The state is an {@link OptimizerState} named after the chain, so it saves with
 * `saveOptimizerState` like any other.
 * @example const opt = chain(clipByGlobalNorm(1), addDecayedWeights(0.01), scaleByAdam(), scaleByLearningRate(1e-3))
 */
export function chain(...transforms: readonly Transform[]): Optimizer<OptimizerState> {
  transforms.forEach((t, i) => {
    if (typeof t !== 'object' || t === null || typeof t.init !== 'function' || typeof t.update !== 'function') {
      throw new ArgumentError(`chain: argument ${i} is ${describeValue(t)}, not a transform (make one with scaleByAdam(), scaleByLearningRate(), ...)`)
    }
  })
  const name = `chain(${transforms.map((t) => t.name).join(', ')})`
  // Each slot belongs to one transform: two transforms keeping 'exp_avg' would overwrite each other.
  const owner = new Map<string, number>()
  transforms.forEach((t, i) => {
    for (const s of [...t.slots, ...(t.optionalSlots ?? [])]) {
      const j = owner.get(s)
      if (j !== undefined)
        throw new ArgumentError(
          `${name}: transforms ${j} (${transforms[j].name}) and ${i} (${t.name}) both keep a slot '${s}'; chain them in separate optimizers`,
        )
      owner.set(s, i)
    }
  })

  const init = (params: ParamTree): OptimizerState => {
    const where = `${name}.init`
    const named = flattenNamed(params, where, 'params')
    const slots = named.names.map((n, j): [string, OrderedMap<string, Tensor>] => {
      const p = named.leaves[j]
      checkFloat(p, where, `parameter '${n}'`)
      return [n, OrderedMap(transforms.flatMap((t) => Object.entries(t.init(p))))]
    })
    return Object.freeze({ optimizer: name, step: 0, slots: OrderedMap(slots) })
  }

  const checkState = (state: OptimizerState, names: readonly string[], leaves: readonly Tensor[], where: string): void => {
    if (typeof state !== 'object' || state === null || !OrderedMap.isOrderedMap(state.slots)) {
      throw new ArgumentError(`${where}: state must be an optimizer state from init() or a previous step(), got ${describeValue(state)}`)
    }
    if (state.optimizer !== name) throw new ArgumentError(`${where}: the state was made by ${String(state.optimizer)}, not ${name}`)
    if (!Number.isSafeInteger(state.step) || state.step < 0)
      throw new ArgumentError(`${where}: state.step must be a non-negative integer, got ${String(state.step)}`)
    const known = new Set(names)
    for (const n of state.slots.keys()) if (!known.has(n)) throw new ArgumentError(`${where}: the state has an entry for '${n}', which is not a parameter`)
    names.forEach((n, j) => {
      const slots = state.slots.get(n)
      if (slots === undefined)
        throw new ArgumentError(`${where}: the state has no entry for parameter '${n}' (make the state with init() for these parameters)`)
      for (const t of transforms)
        for (const s of t.slots) if (!slots.has(s)) throw new ArgumentError(`${where}: the state of parameter '${n}' has no slot '${s}' (kept by ${t.name})`)
      for (const [s, t] of slots) {
        if (!owner.has(s)) throw new ArgumentError(`${where}: the state of parameter '${n}' has an unexpected slot '${s}'`)
        const shape = leaves[j].shape
        if (!(t instanceof Tensor) || t.shape.length !== shape.length || t.shape.some((d, k) => d !== shape[k])) {
          throw new ShapeError(
            `${where}: state '${s}' of parameter '${n}' has shape ${t instanceof Tensor ? fmtShape(t.shape) : describeValue(t)}, expected ${fmtShape(shape)}`,
          )
        }
      }
    })
  }

  const step = <P extends ParamTree>(params: P, grads: ParamTree, state: OptimizerState): StepResult<P, OptimizerState> => {
    const where = `${name}.step`
    const { names, leaves } = flattenNamed(params, where, 'params')
    const gradNamed = flattenNamed(grads, where, 'grads')
    const gradOf = new Map(gradNamed.names.map((n, j) => [n, gradNamed.leaves[j]]))
    const known = new Set(names)
    for (const n of gradNamed.names) if (!known.has(n)) throw new ArgumentError(`${where}: grads has an entry '${n}', which is not a parameter`)
    checkState(state, names, leaves, where)
    const data = leaves.map((p) => asFloat64(p))
    let updates: readonly Direction[] = names.map((n, j) => {
      const p = leaves[j]
      const g = gradientOf(gradOf, n, p, where)
      return { u: asFloat64(g), den: null, scale: 1, divisor: 1, decay: 0 }
    })
    // Slots are read as the parameter's dtype (a loaded float64 slot of a float32 parameter is rounded first), as the named optimizers do.
    const oldSlots = names.map((n, j) => {
      const dtype = leaves[j].dtype as 'float32' | 'float64'
      const out: Record<string, Float64Array> = {}
      for (const [s, t] of state.slots.get(n) as OrderedMap<string, Tensor>) out[s] = slotInput(t, dtype)
      return out
    })
    const newSlots: Record<string, Float64Array>[] = names.map(() => ({}))
    for (const t of transforms) {
      const mine = [...t.slots, ...(t.optionalSlots ?? [])]
      const slots = oldSlots.map((all) => Object.fromEntries(mine.filter((s) => all[s] !== undefined).map((s) => [s, all[s]])))
      const out = t.update({ names, updates, params: data, slots, step: state.step })
      if (out.updates.length !== names.length || out.slots.length !== names.length)
        throw new ArgumentError(`${where}: transform ${t.name} returned ${out.updates.length} updates for ${names.length} parameters`)
      updates = out.updates
      out.slots.forEach((s, j) => Object.assign(newSlots[j], s))
    }
    const newLeaves = leaves.map((p, j) => fromData(applyDirection(data[j], updates[j]), p.dtype, p.shape))
    const slotEntries = names.map((n, j): [string, OrderedMap<string, Tensor>] => {
      const p = leaves[j]
      return [n, OrderedMap(Object.entries(newSlots[j]).map(([s, d]): [string, Tensor] => [s, fromData(d, p.dtype, p.shape)]))]
    })
    const rebuilt = flattenTree(params, where).rebuild(newLeaves) as P
    return Object.freeze({ params: rebuilt, state: Object.freeze({ optimizer: name, step: state.step + 1, slots: OrderedMap(slotEntries) }) })
  }

  return Object.freeze({ name, init, step })
}
