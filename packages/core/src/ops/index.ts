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
// Explicit for the families that also export internals (kernel rule tables, sumToShape):
// the main entry exports ops, not the pieces the kernel generator and the VJPs share.
export {
  neg,
  abs,
  sign,
  exp,
  log,
  log1p,
  expm1,
  sqrt,
  rsqrt,
  square,
  reciprocal,
  sin,
  cos,
  tanh,
  sigmoid,
  relu,
  leakyRelu,
  erf,
  softplus,
  clamp,
} from './unary.ts'
export type { SoftplusOptions } from './unary.ts'
export { add, sub, mul, div, pow, maximum, minimum, equal, notEqual, less, lessEqual, greater, greaterEqual, where } from './binary.ts'
export * from './cast.ts'
export { broadcastTo } from './broadcast.ts'
export * from './reshape.ts'
export * from './reduce.ts'
export * from './composite.ts'
export * from './softmax.ts'
export * from './slice.ts'
export * from './join.ts'
export * from './indexing.ts'
export { matmul, dot, outer } from './matmul.ts'
export * from './conv.ts'
export * from './pool.ts'
export { registeredOps, hasGradient } from './registry.ts'
export type { GradCase, GradSpec, NoGradient, OpEntry } from './registry.ts'
export { CaseSampler } from './sampler.ts'
export type { Domain, ShapeOptions } from './sampler.ts'

bindLateOps({ add, neg, log, sum, sumToShape })
