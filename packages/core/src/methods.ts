/**
 * Method forms of the ops: `x.matmul(w).add(b).tanh()` is `tanh(add(matmul(x, w), b))`.
 *
 * One table, {@link methodOps}, is both the installation and the declaration: the Tensor
 * interface's methods are derived from it by a mapped type, so a method cannot be declared
 * without being installed, nor installed with a signature other than its op's. Adding a
 * method is one line here.
 *
 * tensor.ts calls {@link installMethods} when the first tensor is constructed, so whatever
 * module a program imports first (the package entry, or a deep import of one op file), every
 * Tensor has its methods; no side-effect import to forget. That import (tensor.ts -> this
 * module -> the ops -> tensor.ts) is the core's one allowed value-import cycle. It is safe
 * because nothing here runs at load time: the table is built by a function, called only once
 * a tensor exists, that is, once every module has been evaluated.
 * @module
 */
import type { Tensor } from './tensor.ts'
import * as ops from './ops/index.ts'

/**
 * The ops that are also Tensor methods, keyed by method name; each takes the tensor as its
 * first argument. The TSDoc of each row is the method's. A function rather than a constant,
 * so that nothing reads the ops while the modules are still loading (see above).
 */
function methodOps() {
  return {
    /** See {@link ops.add}. */ add: ops.add,
    /** See {@link ops.sub}. */ sub: ops.sub,
    /** See {@link ops.mul}. */ mul: ops.mul,
    /** See {@link ops.div}. */ div: ops.div,
    /** See {@link ops.pow}. */ pow: ops.pow,
    /** See {@link ops.maximum}. */ maximum: ops.maximum,
    /** See {@link ops.minimum}. */ minimum: ops.minimum,
    /** See {@link ops.equal}. */ equal: ops.equal,
    /** See {@link ops.notEqual}. */ notEqual: ops.notEqual,
    /** See {@link ops.less}. */ less: ops.less,
    /** See {@link ops.lessEqual}. */ lessEqual: ops.lessEqual,
    /** See {@link ops.greater}. */ greater: ops.greater,
    /** See {@link ops.greaterEqual}. */ greaterEqual: ops.greaterEqual,
    /** See {@link ops.neg}. */ neg: ops.neg,
    /** See {@link ops.abs}. */ abs: ops.abs,
    /** See {@link ops.sign}. */ sign: ops.sign,
    /** See {@link ops.exp}. */ exp: ops.exp,
    /** See {@link ops.log}. */ log: ops.log,
    /** See {@link ops.log1p}. */ log1p: ops.log1p,
    /** See {@link ops.expm1}. */ expm1: ops.expm1,
    /** See {@link ops.sqrt}. */ sqrt: ops.sqrt,
    /** See {@link ops.rsqrt}. */ rsqrt: ops.rsqrt,
    /** See {@link ops.square}. */ square: ops.square,
    /** See {@link ops.reciprocal}. */ reciprocal: ops.reciprocal,
    /** See {@link ops.sin}. */ sin: ops.sin,
    /** See {@link ops.cos}. */ cos: ops.cos,
    /** See {@link ops.tanh}. */ tanh: ops.tanh,
    /** See {@link ops.sigmoid}. */ sigmoid: ops.sigmoid,
    /** See {@link ops.relu}. */ relu: ops.relu,
    /** See {@link ops.leakyRelu}. */ leakyRelu: ops.leakyRelu,
    /** See {@link ops.gelu}. */ gelu: ops.gelu,
    /** See {@link ops.softplus}. */ softplus: ops.softplus,
    /** See {@link ops.erf}. */ erf: ops.erf,
    /** See {@link ops.clamp}. */ clamp: ops.clamp,
    /** See {@link ops.astype}. */ astype: ops.astype,
    /** See {@link ops.sum}. */ sum: ops.sum,
    /** See {@link ops.mean}. */ mean: ops.mean,
    /** See {@link ops.prod}. */ prod: ops.prod,
    /** See {@link ops.max}. */ max: ops.max,
    /** See {@link ops.min}. */ min: ops.min,
    /** See {@link ops.argmax}. */ argmax: ops.argmax,
    /** See {@link ops.argmin}. */ argmin: ops.argmin,
    /** See {@link ops.variance}. */ var: ops.variance,
    /** See {@link ops.std}. */ std: ops.std,
    /** See {@link ops.logsumexp}. */ logsumexp: ops.logsumexp,
    /** See {@link ops.norm}. */ norm: ops.norm,
    /** See {@link ops.softmax}. */ softmax: ops.softmax,
    /** See {@link ops.logSoftmax}. */ logSoftmax: ops.logSoftmax,
    /** See {@link ops.reshape}. */ reshape: ops.reshape,
    /** See {@link ops.flatten}. */ flatten: ops.flatten,
    /** See {@link ops.squeeze}. */ squeeze: ops.squeeze,
    /** See {@link ops.unsqueeze}. */ unsqueeze: ops.unsqueeze,
    /** See {@link ops.permute}. */ permute: ops.permute,
    /** See {@link ops.transpose}. */ transpose: ops.transpose,
    /** See {@link ops.broadcastTo}. */ broadcastTo: ops.broadcastTo,
    /** See {@link ops.slice}. */ slice: ops.slice,
    /** See {@link ops.select}. */ select: ops.select,
    /** See {@link ops.split}. */ split: ops.split,
    /** See {@link ops.matmul}. */ matmul: ops.matmul,
    /** See {@link ops.dot}. */ dot: ops.dot,
    /** See {@link ops.outer}. */ outer: ops.outer,
    /** See {@link ops.gather}. */ gather: ops.gather,
    /** See {@link ops.indexSelect}. */ indexSelect: ops.indexSelect,
    /** See {@link ops.pad}. */ pad: ops.pad,
  }
}

/** The method form of each op of a table like {@link methodOps}: the first parameter becomes `this`. */
export type MethodsOf<T> = {
  readonly [K in keyof T]: T[K] extends (self: Tensor, ...args: infer P) => infer R ? (...args: P) => R : never
}

/** The methods every Tensor has, derived from {@link methodOps}. */
export type TensorMethods = MethodsOf<ReturnType<typeof methodOps>>

declare module './tensor.ts' {
  // Declaration merging: the class gains exactly the methods the table installs.
  interface Tensor extends TensorMethods {}
}

type Method = (this: Tensor, ...args: never[]) => unknown

/**
 * @internal Installs every method of the table on the Tensor prototype; called by tensor.ts
 * when the first tensor is constructed.
 */
export function installMethods(prototype: Tensor): void {
  // Typed here rather than with `satisfies` on the table: checking the table where it is
  // defined would make the Tensor interface's base type depend on itself. This assignment
  // still fails to compile when an entry does not take a Tensor first.
  const installable: { readonly [name: string]: (self: Tensor, ...rest: never[]) => unknown } = methodOps()
  const proto = prototype as unknown as Record<string, Method>
  for (const [name, fn] of Object.entries(installable)) {
    proto[name] = function (this: Tensor, ...rest: never[]) {
      return fn(this, ...rest)
    }
  }
}
