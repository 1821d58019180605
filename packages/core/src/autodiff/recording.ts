/**
 * When ops record graph nodes, and the one function every op calls to wrap its result.
 * @module
 */
import type { TensorData } from '../dtype.ts'
import { AnomalyError, fmtShape } from '../errors.ts'
import { type GraphNode, Tensor, createNode } from '../tensor.ts'
import { type NoGradient, isNoGradient } from './no-gradient.ts'

let noGradDepth = 0
let transformDepth = 0
let anomalyDepth = 0
let backwardOf: string | null = null
let lastCut: { readonly op: string; readonly reason: string } | null = null

/** Runs `fn` without recording graph nodes: its results never need a gradient. */
export function noGrad<T>(fn: () => T): T {
  noGradDepth++
  try {
    return fn()
  } finally {
    noGradDepth--
  }
}

/** @internal Whether ops record nodes now. */
export function isRecording(): boolean {
  return noGradDepth === 0
}

/** @internal Runs fn with recording forced on or off (backward passes use this). */
export function withRecording<T>(on: boolean, fn: () => T): T {
  const saved = noGradDepth
  noGradDepth = on ? 0 : 1
  try {
    return fn()
  } finally {
    noGradDepth = saved
  }
}

let lastUse = false

/**
 * @internal Whether the VJP now running is its node's last use: the backward pass records
 * nothing and releases each node right after its VJP (no `retainGraph`), so a VJP may
 * overwrite what its forward saved (a fused op reusing its tape as scratch). False outside
 * such a pass.
 */
export function vjpIsLastUse(): boolean {
  return lastUse
}

/** @internal Runs fn with {@link vjpIsLastUse} answering `last`. */
export function withLastUse<T>(last: boolean, fn: () => T): T {
  const saved = lastUse
  lastUse = last
  try {
    return fn()
  } finally {
    lastUse = saved
  }
}

/** @internal Number of active differentiation transforms (grad inside grad is 2). */
export function activeTransforms(): number {
  return transformDepth
}

/**
 * @internal Runs fn inside one more differentiation transform. Recording is on inside it
 * even under an enclosing `noGrad` (a transform asked for a gradient explicitly); a `noGrad`
 * inside the transformed function still turns it off there.
 */
export function inTransform<T>(fn: () => T): T {
  if (transformDepth === 0) lastCut = null // a cut from an earlier, unrelated computation says nothing about this one
  transformDepth++
  const savedNoGrad = noGradDepth
  noGradDepth = 0
  try {
    return fn()
  } finally {
    noGradDepth = savedNoGrad
    transformDepth--
  }
}

/** The same values as `x`, cut from the graph: no gradient flows through the result. */
export function stopGradient(x: Tensor): Tensor {
  return x.requiresGrad ? new Tensor(x._data, x.shape) : x
}

/**
 * Runs `fn` in anomaly mode: the first op whose forward or backward produces NaN or
 * Infinity throws an {@link AnomalyError} naming the op and its input shapes.
 */
export function detectAnomaly<T>(fn: () => T): T {
  anomalyDepth++
  try {
    return fn()
  } finally {
    anomalyDepth--
  }
}

/** @internal Whether anomaly mode is on. */
export function anomalyEnabled(): boolean {
  return anomalyDepth > 0
}

/** @internal Runs fn while the backward of `op` executes, so anomaly errors can say so. */
export function duringBackwardOf<T>(op: string, fn: () => T): T {
  const saved = backwardOf
  backwardOf = op
  try {
    return fn()
  } finally {
    backwardOf = saved
  }
}

function checkFinite(op: string, inputs: readonly Tensor[], data: TensorData): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      const what = Number.isNaN(data[i]) ? 'NaN' : 'Infinity'
      const where = backwardOf === null ? `forward of ${op}` : `backward of ${backwardOf} (op ${op})`
      const shapes = inputs.map((t) => fmtShape(t.shape)).join(', ')
      throw new AnomalyError(`anomaly: ${where} produced ${what} at element ${i}; input shapes ${shapes}`)
    }
  }
}

/** The VJP an op hands to {@link makeOutput}: a pullback, never `null` (say {@link noGradient} instead). */
export type Vjp = NonNullable<GraphNode['vjp']>

/**
 * @internal The last op without a gradient that a tensor needing one went through (and why),
 * or null. Transforms quote it when a function's result turns out not to be differentiable.
 */
export function lastNoGradientOp(): { readonly op: string; readonly reason: string } | null {
  return lastCut
}

/**
 * @internal Wraps an op's freshly computed data as its output tensor, recording a graph
 * node when recording is on and some input needs a gradient. `vjp` is the op's pullback, or
 * {@link noGradient}('why') for an op without a gradient: its output is a constant (gradients
 * through it are symbolic zeros) and the reason is kept for {@link lastNoGradientOp}.
 */
export function makeOutput(
  op: string,
  inputs: Tensor[],
  data: TensorData,
  shape: readonly number[],
  vjp: Vjp | NoGradient,
): Tensor {
  if (anomalyDepth > 0) checkFinite(op, inputs, data)
  if (noGradDepth === 0) {
    for (let i = 0; i < inputs.length; i++) {
      if (!inputs[i].requiresGrad) continue
      if (!isNoGradient(vjp)) return new Tensor(data, shape, true, createNode(op, inputs, vjp))
      lastCut = { op, reason: vjp.noGradient }
      break
    }
  }
  return new Tensor(data, shape)
}
