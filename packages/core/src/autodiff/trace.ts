/**
 * Graph export: run a function on traced inputs and return the computation it recorded,
 * as nodes and edges, Graphviz DOT or JSON (for the docs, and for debugging a model).
 * @module
 */
import type { DType } from '../dtype.ts'
import { GradientError, fmtShape } from '../errors.ts'
import { type GraphNode, Tensor, nextGraphNodeId, releaseNode } from '../tensor.ts'
import { flattenTree } from '../tree.ts'
import { inTransform } from './recording.ts'

/** One node of an exported graph. */
export interface TracedNode {
  /** Index of the node in {@link TracedGraph.nodes}. */
  readonly id: number
  /** `input` (a traced argument), `constant` (a tensor the function closed over), or `op`. */
  readonly kind: 'input' | 'constant' | 'op'
  /** The op's name (`matmul`), `input 0`, or `constant`. */
  readonly label: string
  /** Shape of the tensor this node produced. */
  readonly shape: readonly number[]
  /** Its dtype. */
  readonly dtype: DType
  /** True for the function's output. */
  readonly output: boolean
}

/** A data-flow edge: `from` is the `inputIndex`-th input of `to`. */
export interface TracedEdge {
  /** Producer node id. */
  readonly from: number
  /** Consumer node id. */
  readonly to: number
  /** Position among the consumer's inputs. */
  readonly inputIndex: number
}

/** The recorded computation of a function. */
export interface TracedGraph {
  /** Nodes in topological order (inputs first, output last). */
  readonly nodes: readonly TracedNode[]
  /** Edges between them. */
  readonly edges: readonly TracedEdge[]
  /** Graphviz DOT source (`dot -Tsvg`). */
  toDot(): string
  /** A plain object: `{ nodes, edges }`. */
  toJSON(): { nodes: TracedNode[]; edges: TracedEdge[] }
}

/**
 * Runs `f` on `inputs` (tensors or trees of tensors) with every input traced, and returns
 * the graph of ops between the inputs and the output. Only float inputs are traced.
 */
export function traceGraph<A extends unknown[]>(f: (...args: A) => Tensor, ...inputs: A): TracedGraph {
  const leafIndex = new Map<Tensor, number>()
  // Nodes older than the trace belong to whoever built them (an enclosing grad, say):
  // shown as constants, never walked into or released.
  const firstId = nextGraphNodeId()
  const ours = (t: Tensor): boolean => t.node !== null && t.node.id >= firstId
  const out = inTransform(() => {
    const args = inputs.map((arg, i) => {
      const flat = flattenTree(arg, `traceGraph argument ${i}`)
      const leaves = flat.leaves.map((x) => {
        const leaf = x.dtype === 'int32' ? x : new Tensor(x._data, x.shape, true, null)
        leafIndex.set(leaf, leafIndex.size)
        return leaf
      })
      return flat.rebuild(leaves)
    }) as A
    return f(...args)
  })
  if (!(out instanceof Tensor)) throw new GradientError(`traceGraph: the function must return a Tensor, got ${typeof out}`)

  // Post-order DFS from the output gives a topological order.
  const ids = new Map<Tensor, number>()
  const nodes: TracedNode[] = []
  const edges: TracedEdge[] = []
  const visit = (root: Tensor): void => {
    const stack: [Tensor, boolean][] = [[root, false]]
    while (stack.length > 0) {
      const [t, expanded] = stack.pop() as [Tensor, boolean]
      if (ids.has(t)) continue
      const inputsOf = ours(t) ? (t.node as GraphNode).inputs : []
      if (!expanded) {
        stack.push([t, true])
        for (let i = inputsOf.length - 1; i >= 0; i--) if (!ids.has(inputsOf[i])) stack.push([inputsOf[i], false])
        continue
      }
      const id = nodes.length
      ids.set(t, id)
      const leaf = leafIndex.get(t)
      const kind = ours(t) ? 'op' : leaf !== undefined ? 'input' : 'constant'
      const label = ours(t) ? opLabel(t) : leaf !== undefined ? `input ${leaf}` : 'constant'
      nodes.push({ id, kind, label, shape: t.shape.slice(), dtype: t.dtype, output: t === root })
      inputsOf.forEach((x, inputIndex) => edges.push({ from: ids.get(x) as number, to: id, inputIndex }))
    }
  }
  visit(out)
  for (const t of ids.keys()) if (ours(t)) releaseNode(t.node as GraphNode)

  return {
    nodes,
    edges,
    toDot: () => toDot(nodes, edges),
    toJSON: () => ({ nodes: nodes.slice(), edges: edges.slice() }),
  }
}

/** The op's name; for one result of an op with several, its position too (`split[1]`). */
function opLabel(t: Tensor): string {
  const node = t.node as GraphNode
  return node.outputs === 1 ? node.op : `${node.op}[${t.outputIndex}]`
}

function toDot(nodes: readonly TracedNode[], edges: readonly TracedEdge[]): string {
  const lines = ['digraph graphgrad {', '  rankdir=LR;', '  node [fontname="Helvetica", fontsize=10];']
  for (const n of nodes) {
    const shape = n.kind === 'op' ? 'box' : n.kind === 'input' ? 'ellipse' : 'note'
    const style = n.output ? ', style=bold' : ''
    lines.push(`  n${n.id} [label="${n.label}\\n${fmtShape(n.shape)} ${n.dtype}", shape=${shape}${style}];`)
  }
  for (const e of edges) lines.push(`  n${e.from} -> n${e.to};`)
  lines.push('}')
  return lines.join('\n')
}
