/**
 * Reverse-mode accumulation over the recorded graph.
 *
 * Node ids grow in creation order, so sorting the nodes that lie between the output and
 * the targets by descending id is a reverse topological order: no explicit sort of edges.
 * @module
 */
import { GradientError, fmtShape } from '../errors.ts'
import { shapesEqual } from '../shape.ts'
import { type GraphNode, type Tensor, releaseNode } from '../tensor.ts'
import { activeTransforms, duringBackwardOf, withLastUse, withRecording } from './recording.ts'
import { CotangentSum } from './accumulate.ts'
import { backwardProbe } from './probe.ts'

/** Options of {@link backward}. */
export interface BackwardOptions {
  /** Keep the graph after the pass (a pullback that may run again). */
  retainGraph?: boolean
}

/**
 * @internal Pulls `cotangent` (the gradient of some scalar with respect to `output`) back
 * to each of `targets`. Returns one gradient per target, `null` where the target does not
 * influence the output. Records the pass itself (for gradients of gradients) when another
 * transform is active around the caller.
 */
export function backward(output: Tensor, cotangent: Tensor, targets: readonly Tensor[], options: BackwardOptions = {}): (Tensor | null)[] {
  const targetSet = new Set(targets)
  const reaches = new Map<Tensor, boolean>()
  collectRelevant(output, targetSet, reaches)
  // The results of each node that lie between the output and the targets: one for most ops,
  // up to all of them for an op with several (a node runs once, with a cotangent per result).
  const results = new Map<GraphNode, Tensor[]>()
  // Weakly held: a tensor the pass is done with (its node released, no later node reading it) can be collected mid-pass.
  const reaching = new WeakSet<Tensor>()
  for (const [t, r] of reaches) {
    if (!r) continue
    reaching.add(t)
    if (t.node === null || targetSet.has(t)) continue
    const known = results.get(t.node)
    if (known === undefined) results.set(t.node, [t])
    else known.push(t)
  }
  reaches.clear()
  const order: (GraphNode | undefined)[] = [...results.keys()].sort((a, b) => b.id - a.id)

  const nested = activeTransforms() > 1
  const free = !nested && options.retainGraph !== true
  const cotangents = new Map<Tensor, CotangentSum>()
  const root = new CotangentSum(output.shape)
  root.add(cotangent, nested)
  cotangents.set(output, root)
  const probe = backwardProbe()

  // One node's pullback. A function of its own, so that its locals (the cotangents it passed
  // on, which can be large) are dead once it returns, not held by the loop until the next node.
  const pull = (node: GraphNode): void => {
    const outs = results.get(node) as Tensor[]
    results.delete(node)
    const vjp = node.vjp
    if (vjp === null) return
    // A result no cotangent reached is a symbolic zero (null); a node none reached is skipped.
    const gs = new Array<Tensor | null>(node.outputs).fill(null)
    let reached = false
    for (const t of outs) {
      const sum = cotangents.get(t)
      if (sum === undefined) continue
      if (free) cotangents.delete(t)
      gs[t.outputIndex] = sum.value()
      reached = true
    }
    if (!reached) return
    const inputs = node.inputs
    const needs = inputs.map((x) => reaching.has(x))
    const parts = duringBackwardOf(node.op, () => vjp(gs, needs))
    if (probe !== null) probe(node.op, false)
    for (let i = 0; i < inputs.length; i++) {
      const part = parts[i]
      if (!needs[i] || part === null || part === undefined) continue
      const x = inputs[i]
      if (!shapesEqual(part.shape, x.shape)) {
        throw new GradientError(
          `backward of ${node.op}: the gradient for input ${i} has shape ${fmtShape(part.shape)} but the input has shape ${fmtShape(x.shape)}`,
        )
      }
      let sum = cotangents.get(x)
      if (sum === undefined) cotangents.set(x, (sum = new CotangentSum(x.shape)))
      sum.add(part, nested)
    }
    if (free) releaseNode(node)
  }
  withRecording(nested, () =>
    withLastUse(free, () => {
      for (let at = 0; at < order.length; at++) {
        const node = order[at] as GraphNode
        if (free) order[at] = undefined
        pull(node)
      }
    }),
  )
  if (free) releaseReachable(output)
  return targets.map((t) => cotangents.get(t)?.value() ?? null)
}

/** Marks, for every tensor reachable from `root`, whether a target lies behind it. */
function collectRelevant(root: Tensor, targets: Set<Tensor>, reaches: Map<Tensor, boolean>): void {
  // Iterative post-order DFS: unrolled RNNs make graphs far deeper than the JS stack.
  const stack: Tensor[] = [root]
  const expanded = new Set<Tensor>()
  while (stack.length > 0) {
    const t = stack[stack.length - 1]
    if (reaches.has(t)) {
      stack.pop()
      continue
    }
    if (targets.has(t)) {
      reaches.set(t, true)
      stack.pop()
      continue
    }
    const node = t.node
    if (node === null || !t.requiresGrad || node.vjp === null) {
      reaches.set(t, false)
      stack.pop()
      continue
    }
    if (!expanded.has(t)) {
      expanded.add(t)
      for (const x of node.inputs) if (!reaches.has(x)) stack.push(x)
      continue
    }
    stack.pop()
    let r = false
    for (const x of node.inputs) if (reaches.get(x) === true) r = true
    reaches.set(t, r)
  }
}

/** Releases every node still reachable from `root` (branches that did not lead to a target). */
function releaseReachable(root: Tensor): void {
  const stack: Tensor[] = [root]
  while (stack.length > 0) {
    const t = stack.pop() as Tensor
    const node = t.node
    if (node === null || node.vjp === null) continue
    for (const x of node.inputs) stack.push(x)
    releaseNode(node)
  }
}
