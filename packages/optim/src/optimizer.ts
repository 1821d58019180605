/**
 * The optimizer interface, its immutable state, and the driver that turns an update rule
 * (one optimizer's formulas, in its own file) into an {@link Optimizer}: it flattens the
 * parameter tree, checks gradients and state against it, resolves per-group and scheduled
 * options, converts data to float64 for the kernels and back (or, for a rule that has a
 * float32 path, hands a float32 parameter's data over as it is), and rebuilds the tree.
 * The small pieces it shares with the chain and the rules are in helpers.ts.
 * @module
 */
import { type Map as IMap, OrderedMap } from 'immutable'
import { ArgumentError, ShapeError, Tensor, type TensorTree, flattenTree, fmtShape } from '@graphgrad/core'
import { checkOptionKeys, describeValue } from '@graphgrad/core/internal'
import { Check, type OptimizerOptions, type ParamGroup, type Resolved, checkSelector, checkTypes, merge, resolve, selects } from './options.ts'
import type { Transform } from './chain.ts'
import { type FloatArray, type Named, asFloat64, checkFloat, flattenNamed, fromData, gradientOf, slotIn, slotInput } from './helpers.ts'

/**
 * Parameters (and gradients): an Immutable.js `Map` or `OrderedMap` from names to tensors,
 * possibly nested (`{ encoder: { weight, bias } }`). A nested parameter is named by its
 * dotted path (`encoder.bias`) in groups, errors and saved state.
 */
export type ParamTree = IMap<string, TensorTree>

/**
 * An optimizer's state: immutable, created by `init` and replaced (never changed) by `step`.
 */
export interface OptimizerState {
  /** Name of the optimizer that made the state (`'adam'`, `'sgd'`, ...). */
  readonly optimizer: string
  /** Number of updates done so far (0 after `init`). */
  readonly step: number
  /**
   * Per-parameter state, by dotted parameter name, then by slot name (torch's names:
   * `exp_avg`, `exp_avg_sq`, `momentum_buffer`, ...). Every parameter has an entry, possibly
   * empty (SGD's momentum buffer, for instance, exists only after the first update, as in torch).
   * `step` refuses a state whose slots differ from the ones the optimizer keeps, and casts a
   * slot of another dtype to its parameter's (float64 for 0-d slots), as torch's `load_state_dict`.
   */
  readonly slots: OrderedMap<string, OrderedMap<string, Tensor>>
}

/** What {@link Optimizer.step} returns. */
export interface StepResult<P, S> {
  /** The updated parameters, in the same structure as the input. */
  readonly params: P
  /** The state for the next step. */
  readonly state: S
}

/**
 * A pure optimizer: `init(params)` makes the state, `step(params, grads, state)` returns
 * updated parameters and state and leaves its inputs untouched, so old parameters and old
 * states stay valid (a step from an old state can be replayed and gives the same numbers).
 */
export interface Optimizer<S = OptimizerState> {
  /** The optimizer's name, e.g. `'adam'`. */
  readonly name: string
  /** The state before the first update. */
  init(params: ParamTree): S
  /**
   * One update. `grads` must hold a gradient of the same shape for every parameter, and
   * nothing else (matched by dotted name); otherwise an error names the parameter.
   */
  step<P extends ParamTree>(params: P, grads: ParamTree, state: S): StepResult<P, S>
}

/** An optimizer made by one of this package's factories, with its options after defaults. */
export interface ConfiguredOptimizer<H> extends Optimizer<OptimizerState> {
  /** The top-level options merged with torch's defaults (schedules left as functions). */
  readonly options: Readonly<Required<H>>
  /** The parameter groups, as given. */
  readonly groups: readonly ParamGroup<H>[]
  /**
   * The optimizer as its chain of transforms, from the top-level options (schedules passed
   * on): `chain(...adamw({ weightDecay: 0.1 }).transforms())` gives this optimizer's numbers
   * to the last bit, unfused, and is a start for a variant. Throws an ArgumentError when
   * there are parameter groups (a chain has none) or the rule has no chain form (NAdam and
   * RAdam, whose step sizes do not factor into the transforms' scalars).
   */
  transforms(): readonly Transform[]
}

/**
 * Input of {@link UpdateRule.update}: one parameter's data, as float64 (`A`), or as float32
 * for {@link UpdateRule.updateFloat32}. Scalar slots are float64 either way.
 */
export interface UpdateInput<H, A extends FloatArray = Float64Array> {
  /** The parameter (read only). */
  readonly p: A
  /** Its gradient (read only). */
  readonly g: A
  /** Its state slots (read only): every slot {@link UpdateRule.slotNames} requires; an optional one may be undefined. */
  readonly slots: Readonly<Record<string, A | Float64Array | undefined>>
  /** The options for this update. */
  readonly h: Resolved<H>
  /** Update number, starting at 1 (torch's `step` after its increment). */
  readonly t: number
}

/** Output of {@link UpdateRule.update}: fresh arrays, never aliases of the input, in the input's class (`A`). */
export interface UpdateOutput<A extends FloatArray = Float64Array> {
  /** The new parameter. */
  readonly p: A
  /** The new state slots (a slot left out is dropped); scalar slots float64. */
  readonly slots: Readonly<Record<string, A | Float64Array>>
}

/** The state slots an update rule keeps for one parameter: a state with others, or without a required one, is refused. */
interface SlotNames {
  /** Slots every state has (made by `init` and kept by every update). */
  readonly required: readonly string[]
  /** Slots a state may lack, e.g. one that only the first update of some kind creates (SGD's `momentum_buffer`). */
  readonly optional?: readonly string[]
}

/** One optimizer's formulas, for {@link createOptimizer}. */
export interface UpdateRule<H> {
  /** Name used in messages and in the state. */
  readonly name: string
  /** torch's defaults, used for missing options. */
  readonly defaults: Readonly<Required<H>>
  /** Slots that hold a 0-d tensor per parameter instead of one shaped like the parameter. */
  readonly scalarSlots?: readonly string[]
  /** Throws (through `check`) for invalid options. */
  validate(h: Resolved<H>, check: Check): void
  /** The slots of a parameter whose options were `h` at step 0 (the ones `init` used). */
  slotNames(h: Resolved<H>): SlotNames
  /** The state slots of a parameter before the first update. */
  init(param: Tensor, h: Resolved<H>): Readonly<Record<string, Tensor>>
  /** One update of one parameter. */
  update(input: UpdateInput<H>): UpdateOutput
  /**
   * Optional: the same update on a float32 parameter's own data (its gradient float32 too),
   * nothing widened. It must give exactly what `update` gives after rounding to float32:
   * computing in JS numbers (float64) from the float32 values, and rounding each result
   * once as it is stored, does.
   */
  updateFloat32?(input: UpdateInput<H, Float32Array>): UpdateOutput<Float32Array>
  /** Optional: the same rule as transforms for `chain`, from options after defaults (schedules kept), or a reason it has none. */
  transforms?(options: Readonly<Required<H>>): readonly Transform[] | string
}

/**
 * Builds an optimizer from an update rule and the user's options: checks option names and
 * types, merges defaults and groups, validates every option (schedules at step 0, then at
 * each update), and returns `init` and `step`.
 */
export function createOptimizer<H extends object>(rule: UpdateRule<H>, options: OptimizerOptions<H> = {}): ConfiguredOptimizer<H> {
  const name = rule.name
  if (typeof options !== 'object' || options === null) throw new ArgumentError(`${name}: options must be an object, got ${describeValue(options)}`)
  const keys = Object.keys(rule.defaults)
  checkOptionKeys(options, [...keys, 'groups'], name)
  const { groups: rawGroups = [], ...top } = options
  checkTypes(top, rule.defaults, name)
  if (!Array.isArray(rawGroups)) throw new ArgumentError(`${name}: groups must be an array of parameter groups, got ${describeValue(rawGroups)}`)
  const base = Object.freeze(merge(rule.defaults, top))
  const groups: readonly ParamGroup<H>[] = Object.freeze([...(rawGroups as readonly ParamGroup<H>[])])
  // configs[0] is the top level, configs[i + 1] group i.
  const configs: { where: string; raw: Readonly<Required<H>> }[] = [{ where: name, raw: base }]
  groups.forEach((group, i) => {
    const where = `${name}: groups[${i}]`
    if (typeof group !== 'object' || group === null)
      throw new ArgumentError(`${where} must be an object with params and option overrides, got ${describeValue(group)}`)
    checkOptionKeys(group, [...keys, 'params'], where)
    checkSelector(group.params, where)
    const { params: _selector, ...overrides } = group
    checkTypes(overrides, rule.defaults, where)
    configs.push({ where, raw: merge(base, overrides) })
  })

  const resolveAt = (index: number, step: number): Resolved<H> => {
    const { where, raw } = configs[index]
    const h = resolve<H>(raw, step, where)
    rule.validate(h, new Check(where, raw as Readonly<Record<string, unknown>>, step))
    return h
  }
  // Validates every configuration now; init reuses the step-0 values.
  const initial = configs.map((_, i) => resolveAt(i, 0))

  /** Index into configs of each parameter, after checking that listed names exist. */
  const assignGroups = (named: Named, where: string): number[] => {
    const known = new Set(named.names)
    groups.forEach((g, i) => {
      if (!Array.isArray(g.params)) return
      for (const n of g.params as readonly string[]) {
        if (!known.has(n))
          throw new ArgumentError(`${where}: groups[${i}].params names '${n}', which is not a parameter (parameters: ${named.names.join(', ')})`)
      }
    })
    return named.names.map((n, j) => {
      const i = groups.findIndex((g) => selects(g.params, n, named.leaves[j]))
      return i + 1
    })
  }

  const init = (params: ParamTree): OptimizerState => {
    const where = `${name}.init`
    const named = flattenNamed(params, where, 'params')
    const assignment = assignGroups(named, where)
    const slots = named.names.map((n, j): [string, OrderedMap<string, Tensor>] => {
      const p = named.leaves[j]
      checkFloat(p, where, `parameter '${n}'`)
      return [n, OrderedMap(Object.entries(rule.init(p, initial[assignment[j]])))]
    })
    return Object.freeze({ optimizer: name, step: 0, slots: OrderedMap(slots) })
  }

  /**
   * Checks the state against the parameters: one entry per parameter, with the slots the
   * rule keeps (by name; missing or unexpected ones are an ArgumentError naming both), each
   * shaped like the parameter (or 0-d). A slot's dtype is not checked: {@link slotInput}
   * casts it, as torch's `load_state_dict` casts a loaded state to the parameter's dtype.
   */
  const checkState = (state: OptimizerState, named: Named, assignment: readonly number[], where: string): void => {
    if (typeof state !== 'object' || state === null || !OrderedMap.isOrderedMap(state.slots)) {
      throw new ArgumentError(`${where}: state must be an optimizer state from init() or a previous step(), got ${describeValue(state)}`)
    }
    if (state.optimizer !== name) throw new ArgumentError(`${where}: the state was made by ${String(state.optimizer)}, not ${name}`)
    if (!Number.isSafeInteger(state.step) || state.step < 0)
      throw new ArgumentError(`${where}: state.step must be a non-negative integer, got ${String(state.step)}`)
    const known = new Set(named.names)
    for (const n of state.slots.keys()) {
      if (!known.has(n)) throw new ArgumentError(`${where}: the state has an entry for '${n}', which is not a parameter (was it made for other parameters?)`)
    }
    named.names.forEach((n, j) => {
      const slots = state.slots.get(n)
      if (slots === undefined)
        throw new ArgumentError(`${where}: the state has no entry for parameter '${n}' (make the state with init() for these parameters)`)
      const p = named.leaves[j]
      const { required, optional = [] } = rule.slotNames(initial[assignment[j]])
      const kept = (): string => [...required, ...optional.map((o) => `${o} (optional)`)].join(', ') || 'no slots'
      for (const s of required) {
        if (!slots.has(s))
          throw new ArgumentError(
            `${where}: the state of parameter '${n}' has no slot '${s}' (${name} keeps ${kept()}); make the state with init() and step() of this optimizer`,
          )
      }
      for (const [s, t] of slots) {
        if (!required.includes(s) && !optional.includes(s))
          throw new ArgumentError(
            `${where}: the state of parameter '${n}' has an unexpected slot '${s}' (${name} keeps ${kept()}); was it made by other options?`,
          )
        const expected = isScalarSlot(s) ? [] : p.shape
        if (!(t instanceof Tensor) || t.shape.length !== expected.length || t.shape.some((d, k) => d !== expected[k])) {
          throw new ShapeError(
            `${where}: state '${s}' of parameter '${n}' has shape ${t instanceof Tensor ? fmtShape(t.shape) : describeValue(t)}, expected ${fmtShape(expected)}`,
          )
        }
      }
    })
  }
  const isScalarSlot = (s: string): boolean => rule.scalarSlots?.includes(s) === true
  /** The dtype a slot is kept in: the parameter's, or float64 for a scalar slot (see {@link scalarSlot}). */
  const slotDType = (s: string, p: Tensor): 'float32' | 'float64' => (isScalarSlot(s) ? 'float64' : (p.dtype as 'float32' | 'float64'))

  const step = <P extends ParamTree>(params: P, grads: ParamTree, state: OptimizerState): StepResult<P, OptimizerState> => {
    const where = `${name}.step`
    const named = flattenNamed(params, where, 'params')
    const gradNamed = flattenNamed(grads, where, 'grads')
    const gradOf = new Map(gradNamed.names.map((n, j) => [n, gradNamed.leaves[j]]))
    const known = new Set(named.names)
    for (const n of gradNamed.names) {
      if (!known.has(n)) throw new ArgumentError(`${where}: grads has an entry '${n}', which is not a parameter`)
    }
    const assignment = assignGroups(named, where)
    checkState(state, named, assignment, where)
    const k = state.step
    const resolved: (Resolved<H> | undefined)[] = configs.map(() => undefined)
    const newLeaves: Tensor[] = []
    const newSlots: [string, OrderedMap<string, Tensor>][] = []
    named.names.forEach((n, j) => {
      const p = named.leaves[j]
      const g = gradientOf(gradOf, n, p, where)
      const c = assignment[j]
      const h = (resolved[c] ??= resolveAt(c, k))
      const old = state.slots.get(n) as OrderedMap<string, Tensor>
      let out: UpdateOutput<FloatArray>
      if (rule.updateFloat32 !== undefined && p.dtype === 'float32' && g.dtype === 'float32') {
        // The rule's float32 path: the data as it is, no widened copies (same results, see updateFloat32).
        const slotData: Record<string, FloatArray> = {}
        for (const [s, t] of old) slotData[s] = slotIn(t, slotDType(s, p))
        out = rule.updateFloat32({
          p: p._data as Float32Array,
          g: g._data as Float32Array,
          slots: slotData as Record<string, Float32Array | Float64Array>,
          h,
          t: k + 1,
        })
      } else {
        const slotData: Record<string, Float64Array> = {}
        for (const [s, t] of old) slotData[s] = slotInput(t, slotDType(s, p))
        out = rule.update({ p: asFloat64(p), g: asFloat64(g), slots: slotData, h, t: k + 1 })
      }
      newLeaves.push(fromData(out.p, p.dtype, p.shape))
      const slots = Object.entries(out.slots).map(([s, data]): [string, Tensor] => [s, fromData(data, slotDType(s, p), isScalarSlot(s) ? [] : p.shape)])
      newSlots.push([n, OrderedMap(slots)])
    })
    const rebuilt = flattenTree(params, where).rebuild(newLeaves) as P
    return Object.freeze({ params: rebuilt, state: Object.freeze({ optimizer: name, step: k + 1, slots: OrderedMap(newSlots) }) })
  }

  const transforms = (): readonly Transform[] => {
    if (groups.length > 0) throw new ArgumentError(`${name}.transforms: a chain has no parameter groups; make one chain per group of parameters instead`)
    const parts = rule.transforms?.(base) ?? 'it has no chain form'
    if (typeof parts === 'string') throw new ArgumentError(`${name}.transforms: ${parts}`)
    return parts
  }

  return Object.freeze({ name, options: base, groups, init, step, transforms })
}
