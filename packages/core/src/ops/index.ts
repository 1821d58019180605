/**
 * The op library, one family per file. Importing every family, it is also where the
 * late-bound ops (see late-ops.ts) are bound.
 * @module
 */
import { bindLateOps } from '../late-ops.ts'
import { add } from './binary.ts'
import { log, neg } from './unary.ts'
import { sum } from './reduce.ts'
import { sumToShape } from './broadcast.ts'

export type { TensorLike } from './util.ts'
export * from './unary.ts'
export * from './binary.ts'
export * from './cast.ts'
export * from './broadcast.ts'
export * from './reshape.ts'
export * from './reduce.ts'
export * from './composite.ts'
export * from './slice.ts'
export * from './join.ts'
export * from './indexing.ts'
export { matmul, dot, outer } from './matmul.ts'
export { registeredOps, hasGradient } from './registry.ts'
export type { GradCase, GradSpec, NoGradient, OpEntry } from './registry.ts'
export { CaseSampler } from './sampler.ts'
export type { Domain, ShapeOptions } from './sampler.ts'

bindLateOps({ add, neg, log, sum, sumToShape })
