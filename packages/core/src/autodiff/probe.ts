/**
 * An opt-in hook into the backward pass, for measuring it (the bench's peak-memory reading
 * forces a garbage collection and reads the heap at every call). Unset, it costs one null
 * check per graph node, and one per chunk inside a fused op that reports its own progress.
 * @module
 */

/**
 * Called with `inside` false during a backward pass, once per node, right after the node's
 * VJP returned: `op` is that node's op, and its saved tensors, its incoming cotangent and the
 * cotangents it produced are all live (before they are summed into their inputs' totals and
 * the node is released). Called with `inside` true by a fused op from within its own loop,
 * forward or backward, with its scratch buffers live: `op` then names the place (the
 * recurrent scan reports each chunk of steps as `'recurrent scan forward'` and
 * `'recurrent scan backward'`). A probe must not run ops on the tensors of the pass, nor throw.
 */
export type BackwardProbe = (op: string, inside: boolean) => void

let probe: BackwardProbe | null = null

/**
 * Installs `p` as the probe (`null` removes it) and returns the one it replaces, so that a
 * caller can restore it: `const saved = setBackwardProbe(p); try { ... } finally { setBackwardProbe(saved) }`.
 */
export function setBackwardProbe(p: BackwardProbe | null): BackwardProbe | null {
  const saved = probe
  probe = p
  return saved
}

/** The probe now installed, or null: a backward pass reads it once, then checks it per node. */
export function backwardProbe(): BackwardProbe | null {
  return probe
}

/**
 * Reports a point inside a fused op's loop (`op`: a constant string naming it) to the probe,
 * if one is installed; unset, this costs the call and one null check.
 */
export function probeInside(op: string): void {
  if (probe !== null) probe(op, true)
}
