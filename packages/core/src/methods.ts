/**
 * Method forms of the ops: `x.matmul(w).add(b).tanh()` is `tanh(add(matmul(x, w), b))`.
 * Declared on the Tensor interface here (so tensor.ts needs no op code) and installed on
 * the prototype when the package is imported.
 * @module
 */
import type { DType } from './dtype.ts'
import { Tensor } from './tensor.ts'
import * as ops from './ops/index.ts'
import type { Axes, GeluOptions, SliceArg, SoftplusOptions, TensorLike, VarianceOptions } from './ops/index.ts'

declare module './tensor.ts' {
  interface Tensor {
    /** See {@link ops.add}. */ add(other: TensorLike): Tensor
    /** See {@link ops.sub}. */ sub(other: TensorLike): Tensor
    /** See {@link ops.mul}. */ mul(other: TensorLike): Tensor
    /** See {@link ops.div}. */ div(other: TensorLike): Tensor
    /** See {@link ops.pow}. */ pow(other: TensorLike): Tensor
    /** See {@link ops.maximum}. */ maximum(other: TensorLike): Tensor
    /** See {@link ops.minimum}. */ minimum(other: TensorLike): Tensor
    /** See {@link ops.equal}. */ equal(other: TensorLike): Tensor
    /** See {@link ops.notEqual}. */ notEqual(other: TensorLike): Tensor
    /** See {@link ops.less}. */ less(other: TensorLike): Tensor
    /** See {@link ops.lessEqual}. */ lessEqual(other: TensorLike): Tensor
    /** See {@link ops.greater}. */ greater(other: TensorLike): Tensor
    /** See {@link ops.greaterEqual}. */ greaterEqual(other: TensorLike): Tensor
    /** See {@link ops.neg}. */ neg(): Tensor
    /** See {@link ops.abs}. */ abs(): Tensor
    /** See {@link ops.sign}. */ sign(): Tensor
    /** See {@link ops.exp}. */ exp(): Tensor
    /** See {@link ops.log}. */ log(): Tensor
    /** See {@link ops.log1p}. */ log1p(): Tensor
    /** See {@link ops.expm1}. */ expm1(): Tensor
    /** See {@link ops.sqrt}. */ sqrt(): Tensor
    /** See {@link ops.rsqrt}. */ rsqrt(): Tensor
    /** See {@link ops.square}. */ square(): Tensor
    /** See {@link ops.reciprocal}. */ reciprocal(): Tensor
    /** See {@link ops.sin}. */ sin(): Tensor
    /** See {@link ops.cos}. */ cos(): Tensor
    /** See {@link ops.tanh}. */ tanh(): Tensor
    /** See {@link ops.sigmoid}. */ sigmoid(): Tensor
    /** See {@link ops.relu}. */ relu(): Tensor
    /** See {@link ops.leakyRelu}. */ leakyRelu(negativeSlope?: number): Tensor
    /** See {@link ops.gelu}. */ gelu(options?: GeluOptions): Tensor
    /** See {@link ops.softplus}. */ softplus(options?: SoftplusOptions): Tensor
    /** See {@link ops.erf}. */ erf(): Tensor
    /** See {@link ops.clamp}. */ clamp(min?: number, max?: number): Tensor
    /** See {@link ops.astype}. */ astype(dtype: DType): Tensor
    /** See {@link ops.sum}. */ sum(axis?: Axes, keepdims?: boolean): Tensor
    /** See {@link ops.mean}. */ mean(axis?: Axes, keepdims?: boolean): Tensor
    /** See {@link ops.prod}. */ prod(axis?: Axes, keepdims?: boolean): Tensor
    /** See {@link ops.max}. */ max(axis?: Axes, keepdims?: boolean): Tensor
    /** See {@link ops.min}. */ min(axis?: Axes, keepdims?: boolean): Tensor
    /** See {@link ops.argmax}. */ argmax(axis?: number, keepdims?: boolean): Tensor
    /** See {@link ops.argmin}. */ argmin(axis?: number, keepdims?: boolean): Tensor
    /** See {@link ops.variance}. */ var(axis?: Axes, options?: VarianceOptions): Tensor
    /** See {@link ops.std}. */ std(axis?: Axes, options?: VarianceOptions): Tensor
    /** See {@link ops.logsumexp}. */ logsumexp(axis?: Axes, keepdims?: boolean): Tensor
    /** See {@link ops.norm}. */ norm(ord?: number, axis?: Axes, keepdims?: boolean): Tensor
    /** See {@link ops.softmax}. */ softmax(axis?: number): Tensor
    /** See {@link ops.logSoftmax}. */ logSoftmax(axis?: number): Tensor
    /** See {@link ops.reshape}. */ reshape(shape: readonly number[]): Tensor
    /** See {@link ops.flatten}. */ flatten(startDim?: number, endDim?: number): Tensor
    /** See {@link ops.squeeze}. */ squeeze(axis?: number | readonly number[]): Tensor
    /** See {@link ops.unsqueeze}. */ unsqueeze(axis: number): Tensor
    /** See {@link ops.permute}. */ permute(dims: readonly number[]): Tensor
    /** See {@link ops.transpose}. */ transpose(dim0?: number, dim1?: number): Tensor
    /** See {@link ops.broadcastTo}. */ broadcastTo(shape: readonly number[]): Tensor
    /** See {@link ops.slice}. */ slice(spec: readonly SliceArg[]): Tensor
    /** See {@link ops.select}. */ select(axis: number, index: number): Tensor
    /** See {@link ops.split}. */ split(sizes: number | readonly number[], axis?: number): Tensor[]
    /** See {@link ops.matmul}. */ matmul(other: Tensor): Tensor
    /** See {@link ops.dot}. */ dot(other: Tensor): Tensor
    /** See {@link ops.outer}. */ outer(other: Tensor): Tensor
    /** See {@link ops.gather}. */ gather(axis: number, index: Tensor): Tensor
    /** See {@link ops.indexSelect}. */ indexSelect(axis: number, index: Tensor): Tensor
    /** See {@link ops.pad}. */ pad(widths: readonly (readonly [number, number])[], value?: number): Tensor
  }
}

type OpFn = (x: Tensor, ...rest: never[]) => Tensor | Tensor[]
type Method = (this: Tensor, ...args: never[]) => Tensor | Tensor[]
const proto = Tensor.prototype as unknown as Record<string, Method>
const forward = (name: string, fn: OpFn): void => {
  proto[name] = function (this: Tensor, ...rest: never[]) {
    return fn(this, ...rest)
  }
}

const methodOps: Record<string, OpFn> = {
  add: ops.add, sub: ops.sub, mul: ops.mul, div: ops.div, pow: ops.pow, maximum: ops.maximum, minimum: ops.minimum,
  equal: ops.equal, notEqual: ops.notEqual, less: ops.less, lessEqual: ops.lessEqual, greater: ops.greater, greaterEqual: ops.greaterEqual,
  neg: ops.neg, abs: ops.abs, sign: ops.sign, exp: ops.exp, log: ops.log, log1p: ops.log1p, expm1: ops.expm1,
  sqrt: ops.sqrt, rsqrt: ops.rsqrt, square: ops.square, reciprocal: ops.reciprocal, sin: ops.sin, cos: ops.cos,
  tanh: ops.tanh, sigmoid: ops.sigmoid, relu: ops.relu, leakyRelu: ops.leakyRelu, gelu: ops.gelu, softplus: ops.softplus,
  erf: ops.erf, clamp: ops.clamp, astype: ops.astype,
  sum: ops.sum, mean: ops.mean, prod: ops.prod, max: ops.max, min: ops.min, argmax: ops.argmax, argmin: ops.argmin,
  var: ops.variance, std: ops.std, logsumexp: ops.logsumexp, norm: ops.norm, softmax: ops.softmax, logSoftmax: ops.logSoftmax,
  reshape: ops.reshape, flatten: ops.flatten, squeeze: ops.squeeze, unsqueeze: ops.unsqueeze, permute: ops.permute,
  transpose: ops.transpose, broadcastTo: ops.broadcastTo, slice: ops.slice, select: ops.select, split: ops.split, pad: ops.pad,
  gather: ops.gather, indexSelect: ops.indexSelect, matmul: ops.matmul, dot: ops.dot, outer: ops.outer,
}
for (const [name, fn] of Object.entries(methodOps)) forward(name, fn)
