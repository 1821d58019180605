/**
 * The Tensor value: an immutable n-d array with a dtype, a shape and row-major data,
 * plus the graph node that produced it when it was recorded for differentiation.
 * The methods (`x.add(y)`) come from the table in `methods.ts`, installed when the first tensor
 * is constructed, so this file stays free of op code and no import path can skip them.
 * @module
 */
import { type DType, type TensorData, allocate, dtypeOfData } from './dtype.ts'
import { ArgumentError, ShapeError, fmtShape } from './errors.ts'
import { MAX_ELEMENTS, checkShape, sizeOf } from './shape.ts'
import { formatTensor } from './format.ts'
import type { ScatteredCotangent } from './autodiff/accumulate.ts'
import { installMethods } from './methods.ts'

/** Nested number arrays, as returned by {@link Tensor.toArray}. */
export type NestedArray = number | NestedArray[]

/**
 * A node of the computational graph: which op produced a tensor, from which inputs,
 * and how to pull cotangents back to those inputs. An op with several results (a fused
 * recurrent layer's outputs and final states, `split`'s pieces) has one node shared by all
 * of them; each result knows its position ({@link Tensor.outputIndex}).
 */
export interface GraphNode {
  /** Unique, increasing id (creation order is a topological order). */
  readonly id: number
  /** Readable op name, e.g. `matmul` or `lstmScan`. */
  readonly op: string
  /** How many results the op produced (1 for most ops). */
  readonly outputs: number
  /** The tensors the op read. Emptied once backward has used the node. */
  inputs: Tensor[]
  /**
   * Vector-Jacobian product: given one cotangent per result (`null` is a symbolic zero: a
   * result the differentiated function did not use) and which inputs need one, returns one
   * cotangent per input (`null` is a symbolic zero). Written with ops, so it can itself be
   * differentiated. `null` once freed. Internal: user ops supply theirs through `customOp`.
   * @internal
   */
  vjp: ((cotangents: readonly (Tensor | null)[], needs: readonly boolean[]) => (Tensor | ScatteredCotangent | null)[]) | null
  /**
   * The op's arguments that are not tensor inputs (axes, `keepdims`, a slice's ranges, an
   * index tensor it closed over), for exporters; undefined for ops that record none, and once
   * the node is released.
   * @internal
   */
  attributes: OpAttributes | undefined
  /** @internal The transform generation the node was recorded in (0 outside grad, valueAndGrad and jvp). */
  readonly generation: number
}

/** @internal One attribute of a recorded op: a number, flag, name, list, or a tensor it read. */
export type OpAttribute = number | boolean | string | readonly number[] | readonly string[] | Tensor | null

/** @internal The attributes an op records with its graph node ({@link GraphNode.attributes}). */
export type OpAttributes = Readonly<Record<string, OpAttribute>>

/**
 * The graph's counters. Node ids order every backward pass (creation order is topological),
 * so they must only grow: the record lives on `globalThis` under a registered symbol, so a
 * re-evaluated copy of this module (hot reload, two bundled copies of core) continues the
 * same sequence instead of restarting at 1 beside nodes that still exist.
 */
interface GraphCounters {
  /** Nodes counted by {@link liveGraphNodes}. */
  live: number
  /** The id the next node gets. */
  nextId: number
  /** The generation new nodes get: that of the outermost grad, valueAndGrad or jvp running, else 0. */
  generation: number
  /** The number the next such transform's generation gets. */
  nextGeneration: number
  /** Nodes of the current generation still counted. */
  generationLive: number
}

const COUNTERS_KEY = Symbol.for('@graphgrad/core/graph-counters')
const counters: GraphCounters = ((globalThis as Record<symbol, GraphCounters | undefined>)[COUNTERS_KEY] ??= {
  live: 0,
  nextId: 1,
  generation: 0,
  nextGeneration: 1,
  generationLive: 0,
})
let methodsInstalled = false

/**
 * Number of graph nodes that a backward pass could still use (for memory tests and leak hunts).
 * A backward pass releases the nodes it walks. The nodes recorded inside `grad`, `valueAndGrad`
 * or `jvp` stop counting when the outermost of them returns, reached or not (a branch nobody
 * used, such as a layer's final state): their traced inputs are gone, so no later pass can
 * use them, and the garbage collector frees them with the tensors that hold them. So a
 * training step leaves the count where it was; what stays counted is graph kept for later
 * by a `vjp` pullback, until the pullback itself is garbage collected.
 */
export function liveGraphNodes(): number {
  return counters.live
}

/** @internal The id the next graph node will get (ids only grow). */
export function nextGraphNodeId(): number {
  return counters.nextId
}

/** @internal Creates a graph node for an op with `outputs` results and counts it as live. */
export function createNode(op: string, inputs: Tensor[], vjp: NonNullable<GraphNode['vjp']>, outputs = 1, attributes?: OpAttributes): GraphNode {
  counters.live++
  if (counters.generation !== 0) counters.generationLive++
  return { id: counters.nextId++, op, outputs, inputs, vjp, attributes, generation: counters.generation }
}

/**
 * @internal Starts the generation of the outermost grad, valueAndGrad or jvp: its nodes stop
 * counting at {@link endGraphGeneration}. A count, not a list of the nodes: holding every node
 * until the transform returns measured 50% slower per op (they could no longer die young).
 */
export function beginGraphGeneration(): void {
  counters.generation = counters.nextGeneration++
  counters.generationLive = 0
}

/** @internal Ends the current generation: its nodes still counted stop counting. */
export function endGraphGeneration(): void {
  counters.live -= counters.generationLive
  counters.generationLive = 0
  counters.generation = 0
}

/**
 * @internal Ends the current generation but keeps its nodes counted, for a `vjp` whose
 * pullback still needs them: returns how many there are, for {@link dropHeldGraph}.
 */
export function holdGraphGeneration(): number {
  const held = counters.generationLive
  counters.generationLive = 0
  counters.generation = 0
  return held
}

/** @internal Stops counting `nodes` held by a pullback that has been garbage collected. */
export function dropHeldGraph(nodes: number): void {
  counters.live -= nodes
}

/** @internal Drops a node's references so the graph behind it can be collected. */
export function releaseNode(node: GraphNode): void {
  if (node.vjp === null) return
  node.vjp = null
  node.inputs = []
  node.attributes = undefined
  // A node of an ended generation stopped counting when it ended.
  if (node.generation === 0) counters.live--
  else if (node.generation === counters.generation) {
    counters.live--
    counters.generationLive--
  }
}

/**
 * The number of elements of `shape`, after checking that every size is a non-negative integer
 * within the cap: an empty tensor's data cannot vouch for its shape ([1e20, 0] has length 0
 * too, and printing or reducing it would loop), nor can a product ([-1, -2] has 2).
 */
function checkedSize(shape: readonly number[]): number {
  if (!Array.isArray(shape)) checkShape(shape, 'Tensor') // throws, naming what it got
  let size = 1
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i]
    if (!(Number.isInteger(d) && d >= 0 && d <= MAX_ELEMENTS)) checkShape(shape, 'Tensor')
    size *= d
  }
  return size
}

/**
 * An immutable n-dimensional array. Create one with {@link tensor}, {@link zeros},
 * {@link randn} and friends; transform it with ops (`add(a, b)`) or methods (`a.add(b)`).
 */
export class Tensor {
  /** The size of each dimension; `[]` for a scalar. A frozen array: writing to it throws. */
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
  /** @internal Which of its node's results this tensor is (0 unless the op has several). */
  readonly outputIndex: number

  /**
   * Prefer {@link tensor} and the other creation functions. Throws a {@link ShapeError} when
   * `shape` does not describe exactly `data.length` elements: a tensor is a value, so a wrong
   * shape is refused here rather than read out of bounds later.
   */
  constructor(data: TensorData, shape: readonly number[], requiresGrad = false, node: GraphNode | null = null, outputIndex = 0) {
    const size = checkedSize(shape)
    if (size !== data.length) {
      throw new ShapeError(`Tensor: shape ${fmtShape(shape)} has ${size} elements but the data has length ${data.length}`)
    }
    this._data = data
    // Frozen so that a cast (`(x.shape as number[])[0] = 5`) cannot change a value. Most ops pass
    // an input's shape on, already frozen, so only a new shape pays for the copy and the freeze;
    // a caller's own array is copied, never frozen in place.
    this.shape = Object.isFrozen(shape) ? shape : Object.freeze(shape.slice())
    this.size = data.length
    this.dtype = dtypeOfData(data)
    this.requiresGrad = requiresGrad
    this.node = node
    this.outputIndex = outputIndex
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

  /**
   * What Node's `console.log` and `util.inspect` show: the repr, not the fields. A registered
   * symbol rather than an import of `node:util`, so this file stays free of Node.
   */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString()
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
