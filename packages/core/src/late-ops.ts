/**
 * The late-bound ops: the few ops that a lower layer calls at run time (a VJP rule of a family
 * below them, the cotangent sum of the backward pass) without importing them. Importing them
 * would close a value-import cycle (binary's VJPs need `neg` and `log`, while unary's need
 * `mul`), and with a cycle the module a program imports first decides which bindings exist
 * when each module runs. This module imports only types; `ops/index.ts`, which imports every
 * op family, fills the table in once, typed so that leaving an entry out does not compile.
 * Nothing here runs at load time, so the table is always filled before a VJP can run: every
 * tensor comes from `tensor.ts`, which loads `methods.ts` and with it `ops/index.ts`.
 * @module
 */
import type { add } from './ops/binary.ts'
import type { neg, log } from './ops/unary.ts'
import type { sum } from './ops/reduce.ts'
import type { sumToShape } from './ops/broadcast.ts'

/** The ops lower layers call through {@link late}. */
export interface LateOps {
  /** `add` from ops/binary (the cotangent sum of a recording backward pass). */
  readonly add: typeof add
  /** `neg` from ops/unary (VJPs of sub and div). */
  readonly neg: typeof neg
  /** `log` from ops/unary (VJP of pow). */
  readonly log: typeof log
  /** `sum` from ops/reduce (summing a cotangent back to a broadcast operand). */
  readonly sum: typeof sum
  /** `sumToShape` from ops/broadcast (VJPs of the broadcasting binary ops). */
  readonly sumToShape: typeof sumToShape
}

/** A placeholder that says what went wrong if an op is called before ops/index.ts bound it. */
function unbound(name: keyof LateOps): never {
  throw new Error(`graphgrad internal error: the late-bound op '${name}' was called before ops/index.ts bound it`)
}

/**
 * @internal The late-bound ops: a plain record (no Proxy: VJPs and the backward pass call these
 * on every use) whose entries throw until {@link bindLateOps} replaces them. Call them only at
 * run time (inside a function), never while a module is being evaluated.
 */
export const late: LateOps = {
  add: () => unbound('add'),
  neg: () => unbound('neg'),
  log: () => unbound('log'),
  sum: () => unbound('sum'),
  sumToShape: () => unbound('sumToShape'),
}

/** @internal Fills the table; called once by ops/index.ts with every entry. */
export function bindLateOps(ops: LateOps): void {
  Object.assign(late, ops)
}
