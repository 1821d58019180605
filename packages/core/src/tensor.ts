/**
 * The Tensor value: an immutable n-d array with a dtype, a shape and row-major data,
 * plus the graph node that produced it when it was recorded for differentiation.
 * The methods (`x.add(y)`) come from the table in `methods.ts`, installed when the first tensor
 * is constructed, so this file stays free of op code and no import path can skip them.
 * @module
 */
import { type DType, type TensorData, allocate, dtypeOfData } from './dtype.ts'
import { ArgumentError, ShapeError, fmtShape } from './errors.ts'
import { sizeOf } from './shape.ts'
import { formatTensor } from './format.ts'
import type { ScatteredCotangent } from './autodiff/accumulate.ts'
import { installMethods } from './methods.ts'

/** Nested number arrays, as returned by {@link Tensor.toArray}. */
export type NestedArray = number | NestedArray[]

/**
 * A node of the computational graph: which op produced a tensor, from which inputs,
 * and how to pull a cotangent back to those inputs.
 */
export interface GraphNode {
  /** Unique, increasing id (creation order is a topological order). */
  readonly id: number
  /** Readable op name, e.g. `matmul` or `lstmCell`. */
  readonly op: string
  /** The tensors the op read. Emptied once backward has used the node. */
  inputs: Tensor[]
  /**
   * Vector-Jacobian product: given the cotangent of the output and which inputs need one,
   * returns one cotangent per input (`null` is a symbolic zero). Written with ops, so it
   * can itself be differentiated. `null` once freed. Internal: user ops supply theirs
   * through `customOp`.
   * @internal
   */
  vjp: ((cotangent: Tensor, needs: readonly boolean[]) => (Tensor | ScatteredCotangent | null)[]) | null
}

let liveNodes = 0
let methodsInstalled = false
let nextNodeId = 1

/**
 * Number of graph nodes created and not yet released by a backward pass (for memory tests).
 * Nodes that no backward pass reaches (a branch whose result was not used) are freed by the
 * garbage collector but stay in this count.
 */
export function liveGraphNodes(): number {
  return liveNodes
}

/** @internal The id the next graph node will get (ids only grow). */
export function nextGraphNodeId(): number {
  return nextNodeId
}

/** @internal Creates a graph node and counts it as live. */
export function createNode(op: string, inputs: Tensor[], vjp: NonNullable<GraphNode['vjp']>): GraphNode {
  liveNodes++
  return { id: nextNodeId++, op, inputs, vjp }
}

/** @internal Drops a node's references so the graph behind it can be collected. */
export function releaseNode(node: GraphNode): void {
  if (node.vjp === null) return
  node.vjp = null
  node.inputs = []
  liveNodes--
}

/**
 * An immutable n-dimensional array. Create one with {@link tensor}, {@link zeros},
 * {@link randn} and friends; transform it with ops (`add(a, b)`) or methods (`a.add(b)`).
 */
export class Tensor {
  /** The size of each dimension; `[]` for a scalar. */
  readonly shape: readonly number[]
  /** The element type. */
  readonly dtype: DType
  /** Number of elements. */
  readonly size: number
  /** @internal Row-major storage. Never written after construction. */
  readonly _data: TensorData
  /** @internal True when the tensor depends on a value being differentiated. */
  readonly requiresGrad: boolean
  /** @internal The node that produced this tensor, when recorded. */
  readonly node: GraphNode | null

  /**
   * Prefer {@link tensor} and the other creation functions. Throws a {@link ShapeError} when
   * `shape` does not describe exactly `data.length` elements: a tensor is a value, so a wrong
   * shape is refused here rather than read out of bounds later.
   */
  constructor(data: TensorData, shape: readonly number[], requiresGrad = false, node: GraphNode | null = null) {
    if (sizeOf(shape) !== data.length) {
      throw new ShapeError(`Tensor: shape ${fmtShape(shape)} has ${sizeOf(shape)} elements but the data has length ${data.length}`)
    }
    this._data = data
    this.shape = shape
    this.size = data.length
    this.dtype = dtypeOfData(data)
    this.requiresGrad = requiresGrad
    this.node = node
    // Installed on first construction, not when this module loads: tensor.ts and the ops import
    // each other through methods.ts, so at load time the op modules may not be evaluated yet
    // (bundlers and module runners do not all hoist bindings across a cycle). No tensor exists
    // before the first construction, so none can miss a method.
    if (!methodsInstalled) {
      methodsInstalled = true
      installMethods(Tensor.prototype)
    }
  }

  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length
  }

  /** A copy of the row-major data, as a typed array of the tensor's dtype. */
  get data(): TensorData {
    return this._data.slice()
  }

  /** The data as nested arrays (a plain number for a scalar). */
  toArray(): NestedArray {
    const data = this._data
    const shape = this.shape
    if (shape.length === 0) return data[0]
    let pos = 0
    const build = (dim: number): NestedArray[] => {
      const out: NestedArray[] = new Array(shape[dim])
      for (let i = 0; i < shape[dim]; i++) out[i] = dim === shape.length - 1 ? data[pos++] : build(dim + 1)
      return out
    }
    return build(0)
  }

  /** The value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new ArgumentError(`item: tensor of shape ${fmtShape(this.shape)} has ${this.size} elements, expected exactly 1`)
    return this._data[0]
  }

  /** PyTorch-style repr, e.g. `tensor([[1., 2.], [3., 4.]], dtype=float64)`. */
  toString(): string {
    return formatTensor(this._data, this.shape, this.dtype)
  }
}

/** @internal Wraps fresh data in a constant tensor (no graph). */
export function constant(data: TensorData, shape: readonly number[]): Tensor {
  return new Tensor(data, shape)
}

/** @internal A zero-filled constant. */
export function zerosOf(dtype: DType, shape: readonly number[]): Tensor {
  return new Tensor(allocate(dtype, sizeOf(shape)), shape)
}
