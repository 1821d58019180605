/**
 * The op registry: every op the core ships, with the gradient-check spec that the property
 * tests and the `gradcheck` command read. An op family registers a
 * table typed over its op names, so leaving out an op's spec is a compile error.
 * @module
 */
import type { Tensor } from '../tensor.ts'
import type { CaseSampler } from './sampler.ts'
import type { NoGradient } from '../autodiff/no-gradient.ts'

export type { NoGradient }

/** One gradient-check case: float64 inputs and the function of them to check. */
export interface GradCase {
  /** The differentiable inputs (float64). */
  readonly inputs: Tensor[]
  /** The function under test; constant arguments (indices, axes) are closed over. */
  readonly fn: (...inputs: Tensor[]) => Tensor
  /** A short description of the case for reports, e.g. `[2,3] x [3]`. */
  readonly label: string
}

/** How to check an op's gradient: where its inputs may be drawn and how closely to compare. */
export interface GradSpec {
  /** Draws one case from a seeded sampler (shapes, values within the op's domain). */
  readonly sample: (s: CaseSampler) => GradCase
  /** Whether second derivatives are checked too (default true). */
  readonly secondOrder?: boolean
  /** Absolute tolerance against finite differences (default 1e-6). */
  readonly atol?: number
  /** Relative tolerance against finite differences (default 1e-5). */
  readonly rtol?: number
}

/** A registry entry. */
export interface OpEntry {
  /** The op's public name. */
  readonly name: string
  /** The file family it belongs to (`unary`, `reduce`, ...). */
  readonly family: string
  /** `primitive` ops carry a VJP rule; `composite` ones are built from other ops. */
  readonly kind: 'primitive' | 'composite'
  /** How to check it, or why it has no gradient. */
  readonly spec: GradSpec | NoGradient
}

/**
 * The registry lives on the global object, so that re-evaluating a module (hot reload in a dev
 * server, a test runner resetting modules) finds the entries already there instead of starting
 * an empty registry that the modules not re-evaluated never fill again.
 */
const REGISTRY_KEY = Symbol.for('@graphgrad/core/op-registry')
const registry: Map<string, OpEntry> = ((globalThis as Record<symbol, Map<string, OpEntry> | undefined>)[REGISTRY_KEY] ??= new Map())

/**
 * @internal Registers a family's specs. A family that registers again (its module re-evaluated)
 * replaces its own entries; a name already taken by another family is an error.
 */
export function registerOps<N extends string>(family: string, kind: OpEntry['kind'], specs: { readonly [K in N]: GradSpec | NoGradient }): void {
  for (const name of Object.keys(specs) as N[]) {
    const taken = registry.get(name)
    if (taken !== undefined && taken.family !== family) throw new Error(`op '${name}' is registered by both the '${taken.family}' and the '${family}' family`)
    registry.set(name, { name, family, kind, spec: specs[name] })
  }
}

/** Every registered op, in registration order. */
export function registeredOps(): OpEntry[] {
  return [...registry.values()]
}

/** True when the spec describes a differentiable op. */
export function hasGradient(spec: GradSpec | NoGradient): spec is GradSpec {
  return !('noGradient' in spec)
}
