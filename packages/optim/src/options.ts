/**
 * Optimizer options: numbers or schedules, torch's defaults, validation with messages that
 * name the option, and per-parameter groups.
 * @module
 */
import type { Tensor } from '@graphgrad/core'
import { ArgumentError } from '@graphgrad/core'

/**
 * A schedule: the value of a hyper-parameter for an update, given the update's index.
 * The optimizer calls it with `k` = the number of updates already done, so the k-th update
 * (counting from 0) uses `schedule(k)`; this is the value torch's scheduler gives after `k`
 * calls of `scheduler.step()`.
 */
export type Schedule = (step: number) => number

/** A hyper-parameter value: a fixed number or a {@link Schedule}. */
export type Hyper = number | Schedule

/**
 * Which parameters a group applies to, by their dotted names (`encoder.bias` for
 * `{ encoder: { bias } }`): a list of names, a regular expression tested against the name,
 * or a predicate on the name and the tensor.
 */
export type ParamSelector = readonly string[] | RegExp | ((name: string, param: Tensor) => boolean)

/**
 * A parameter group, torch's `param_groups`: the parameters it selects get its option
 * overrides on top of the optimizer's top-level options.
 * @example { params: (name) => name.endsWith('bias'), weightDecay: 0 }
 */
export type ParamGroup<H> = Partial<H> & {
  /** The parameters of the group. */
  readonly params: ParamSelector
}

/**
 * The options of an optimizer: its hyper-parameters `H` (all optional, torch's defaults)
 * plus `groups`. A parameter takes the overrides of the first group that selects it (groups
 * are tried in order; later matches are ignored); a parameter selected by no group uses the
 * top-level options only.
 */
export type OptimizerOptions<H> = Partial<H> & {
  /** Per-parameter option overrides, tried in order; the first group selecting a parameter wins. */
  readonly groups?: readonly ParamGroup<H>[]
}

/** The value of a hyper-parameter after schedules are evaluated. */
type ResolvedValue<V> = V extends Schedule ? number : V extends readonly (infer E)[] ? readonly ResolvedValue<E>[] : V

/** Hyper-parameters with every schedule evaluated for one update. */
export type Resolved<H> = { readonly [K in keyof H]-?: ResolvedValue<Exclude<H[K], undefined>> }

/** Names the option in an error message, with where it came from. */
export class Check {
  /**
   * @param where prefix of every message, e.g. `adam` or `adam: groups[1]`
   * @param raw the options before schedules were evaluated
   * @param step the update index the schedules were evaluated at
   */
  constructor(
    readonly where: string,
    private readonly raw: Readonly<Record<string, unknown>>,
    private readonly step: number,
  ) {}

  /** Throws an ArgumentError: `adam: invalid lr -1: must be ...`. */
  fail(option: string, value: unknown, requirement: string): never {
    const base = option.replace(/\[\d+\]$/, '')
    const index = option === base ? -1 : Number(option.slice(base.length + 1, -1))
    const rawValue = index < 0 ? this.raw[base] : (this.raw[base] as readonly unknown[] | undefined)?.[index]
    const origin = typeof rawValue === 'function' ? ` (returned by the ${option} schedule at step ${this.step})` : ''
    throw new ArgumentError(`${this.where}: invalid ${option} ${fmt(value)}${origin}: ${requirement}`)
  }

  /** Each of the options `names` of `h` a finite number >= 0 (the first that is not is the one reported). */
  nonNegative<K extends string>(h: Readonly<Record<NoInfer<K>, number>>, ...names: readonly K[]): void {
    for (const option of names) {
      const value = h[option]
      if (!(value >= 0 && value < Infinity)) this.fail(option, value, 'must be a finite number >= 0')
    }
  }

  /** A number in [0, 1). */
  unitInterval(option: string, value: number): void {
    if (!(value >= 0 && value < 1)) this.fail(option, value, 'must be in [0, 1)')
  }

  /** A number in [0, 1]. */
  closedUnitInterval(option: string, value: number): void {
    if (!(value >= 0 && value <= 1)) this.fail(option, value, 'must be in [0, 1]')
  }

  /** Each of a pair of betas in [0, 1). */
  betas(values: readonly number[]): void {
    values.forEach((b, i) => this.unitInterval(`betas[${i}]`, b))
  }
}

function fmt(value: unknown): string {
  if (typeof value === 'number') return String(value)
  if (typeof value === 'function') return 'function'
  return JSON.stringify(value) ?? String(value)
}

/**
 * Checks the types of raw option values against the defaults' types: a number option
 * takes a number or a schedule, a pair takes a two-element array of those, a boolean a boolean.
 */
export function checkTypes(raw: Readonly<Record<string, unknown>>, defaults: Readonly<Record<string, unknown>>, where: string): void {
  const isHyper = (v: unknown): boolean => typeof v === 'number' || typeof v === 'function'
  for (const [key, d] of Object.entries(defaults)) {
    const v = raw[key]
    if (v === undefined) continue
    if (typeof d === 'boolean' && typeof v !== 'boolean') throw new ArgumentError(`${where}: ${key} must be a boolean, got ${fmt(v)}`)
    if (typeof d === 'number' && !isHyper(v)) throw new ArgumentError(`${where}: ${key} must be a number or a schedule (step) => number, got ${fmt(v)}`)
    if (Array.isArray(d) && !(Array.isArray(v) && v.length === d.length && v.every(isHyper))) {
      throw new ArgumentError(`${where}: ${key} must be an array of ${d.length} numbers or schedules, got ${fmt(v)}`)
    }
  }
}

/** Evaluates every schedule of `raw` at `step`; a schedule must return a number. */
export function resolve<H extends object>(raw: Readonly<Required<H>>, step: number, where: string): Resolved<H> {
  const call = (key: string, f: Schedule): number => {
    const v = f(step)
    if (typeof v !== 'number') throw new ArgumentError(`${where}: the ${key} schedule returned ${fmt(v)} at step ${step}, not a number`)
    return v
  }
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(raw)) {
    if (typeof v === 'function') out[key] = call(key, v as Schedule)
    else if (Array.isArray(v)) out[key] = v.map((e: unknown, i) => (typeof e === 'function' ? call(`${key}[${i}]`, e as Schedule) : e))
    else out[key] = v
  }
  return out as Resolved<H>
}

/** Copies the defined entries of `overrides` over `base`. */
export function merge<T extends object>(base: T, overrides: object): T {
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) }
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) out[k] = v
  return out as T
}

/** Whether `selector` selects the parameter `name`. */
export function selects(selector: ParamSelector, name: string, param: Tensor): boolean {
  if (Array.isArray(selector)) return selector.includes(name)
  if (selector instanceof RegExp) {
    selector.lastIndex = 0
    return selector.test(name)
  }
  return (selector as (name: string, param: Tensor) => boolean)(name, param)
}

/** Throws unless `selector` is a list of strings, a RegExp or a function. */
export function checkSelector(selector: unknown, where: string): void {
  const ok = (Array.isArray(selector) && selector.every((s) => typeof s === 'string')) || selector instanceof RegExp || typeof selector === 'function'
  if (!ok) throw new ArgumentError(`${where}.params must be a list of parameter names, a RegExp or a function (name, param) => boolean, got ${fmt(selector)}`)
}
