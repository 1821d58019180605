/**
 * The traced computation as the exporter reads it: the tensors between the inputs and the
 * outputs, each with a key that names the same tensor in another trace of the same function
 * (at other sizes of the dynamic axes), and each trace's shapes and attributes by key.
 * @module
 */
import { Tensor } from '@graphgrad/core'
import type { ExportTrace, OpAttributes } from '@graphgrad/core/internal'

/** A recorded op's graph node (the fields the exporter reads). */
interface Node {
  readonly id: number
  readonly op: string
  readonly outputs: number
  readonly inputs: readonly Tensor[]
  readonly attributes: OpAttributes | undefined
}

/** What a tensor of the walk is. */
type Origin =
  | { readonly kind: 'leaf'; readonly arg: number; readonly index: number }
  | { readonly kind: 'op'; readonly node: Node; readonly nodeIndex: number }
  | { readonly kind: 'constant' }

/** The walk of one trace. */
export interface Walk {
  /** Reached nodes, in creation order (a topological order). */
  readonly nodes: readonly Node[]
  /** Each reached tensor's key (stable across traces of the same function). */
  readonly keys: ReadonlyMap<Tensor, string>
  /** Each reached tensor's origin. */
  readonly origins: ReadonlyMap<Tensor, Origin>
  /** Each node's results by output index (only those reached). */
  readonly results: ReadonlyMap<Node, readonly (Tensor | undefined)[]>
}

/** A trace reduced to numbers: what another trace is compared against. */
export interface Signature {
  /** Shapes by tensor key. */
  readonly shapes: ReadonlyMap<string, readonly number[]>
  /** The value of each one-element constant, by key (a mean's divisor may be a sequence length). */
  readonly scalars: ReadonlyMap<string, number>
  /** Per node index: its op and its attributes (tensor-valued ones left out). */
  readonly nodes: readonly { readonly op: string; readonly attributes: OpAttributes }[]
}

/** The tensors an op depends on: its inputs, then the tensors among its attributes. */
function dependencies(node: Node): { readonly slot: string; readonly tensor: Tensor }[] {
  const deps = node.inputs.map((tensor, i) => ({ slot: String(i), tensor }))
  for (const [name, v] of Object.entries(node.attributes ?? {})) if (v instanceof Tensor) deps.push({ slot: name, tensor: v })
  return deps
}

/** Walks from `outputs` back to the leaves of `trace`. */
export function walk(trace: ExportTrace<unknown>, outputs: readonly Tensor[]): Walk {
  const leafOf = new Map<Tensor, { arg: number; index: number }>()
  trace.leaves.forEach((ls, arg) => ls.forEach((t, index) => leafOf.set(t, { arg, index })))
  const seen = new Set<Tensor>()
  const nodes = new Set<Node>()
  const stack = [...outputs]
  while (stack.length > 0) {
    const t = stack.pop() as Tensor
    if (seen.has(t)) continue
    seen.add(t)
    if (!trace.recorded(t) || leafOf.has(t)) continue
    const node = t.node as unknown as Node
    if (nodes.has(node)) continue
    nodes.add(node)
    for (const d of dependencies(node)) if (!seen.has(d.tensor)) stack.push(d.tensor)
  }
  const ordered = [...nodes].sort((a, b) => a.id - b.id)
  const index = new Map(ordered.map((n, i) => [n, i]))
  const keys = new Map<Tensor, string>()
  const origins = new Map<Tensor, Origin>()
  const results = new Map<Node, (Tensor | undefined)[]>()
  for (const t of seen) {
    const leaf = leafOf.get(t)
    if (leaf !== undefined) {
      keys.set(t, `a${leaf.arg}.${leaf.index}`)
      origins.set(t, { kind: 'leaf', ...leaf })
    } else if (trace.recorded(t)) {
      const node = t.node as unknown as Node
      const nodeIndex = index.get(node) as number
      keys.set(t, `n${nodeIndex}.${t.outputIndex}`)
      origins.set(t, { kind: 'op', node, nodeIndex })
      const list = results.get(node) ?? new Array<Tensor | undefined>(node.outputs).fill(undefined)
      list[t.outputIndex] = t
      results.set(node, list)
    }
  }
  // Constants are named by their first consumer, so every trace names them alike.
  const constants = (deps: readonly { slot: string; tensor: Tensor }[], where: string): void => {
    for (const d of deps) {
      if (keys.has(d.tensor)) continue
      keys.set(d.tensor, `${where}.${d.slot}`)
      origins.set(d.tensor, { kind: 'constant' })
    }
  }
  ordered.forEach((n, i) => constants(dependencies(n), `k${i}`))
  constants(
    outputs.map((tensor, i) => ({ slot: String(i), tensor })),
    'out',
  )
  return { nodes: ordered, keys, origins, results }
}

/** The numbers of a walk: shapes by key, and each node's plain attributes. */
export function signature(w: Walk): Signature {
  const shapes = new Map<string, readonly number[]>()
  const scalars = new Map<string, number>()
  for (const [t, key] of w.keys) {
    shapes.set(key, t.shape.slice())
    if (t.size === 1 && w.origins.get(t)?.kind === 'constant') scalars.set(key, t._data[0])
  }
  const nodes = w.nodes.map((n) => {
    const attributes: Record<string, OpAttributes[string]> = {}
    for (const [k, v] of Object.entries(n.attributes ?? {})) if (!(v instanceof Tensor)) attributes[k] = v
    return { op: n.op, attributes }
  })
  return { shapes, scalars, nodes }
}
