/**
 * When ops record graph nodes, and the one function every op calls to wrap its result.
 * @module
 */
import type { TensorData } from '../dtype.ts'
import { AnomalyError, GradientError, fmtShape } from '../errors.ts'
import { type GraphNode, type OpAttributes, Tensor, beginGraphGeneration, createNode, endGraphGeneration } from '../tensor.ts'
import { type NoGradient, isNoGradient, noGradient } from './no-gradient.ts'

/**
 * Everything the recording machinery tracks, in one record rather than scattered module
 * variables, so the whole state is visible in one place (and could be swapped per realm or
 * per worker later). The transforms are synchronous, which is what makes one shared record
 * correct: each field is saved and restored around a call that runs to completion.
 */
interface RecordingContext {
  /** Nesting depth of `noGrad` (recording is on at 0). */
  noGradDepth: number
  /** Number of active differentiation transforms. */
  transformDepth: number
  /** Nesting depth of `detectAnomaly`. */
  anomalyDepth: number
  /** The op whose backward runs now, for anomaly messages. */
  backwardOf: string | null
  /** Whether the VJP now running is its node's last use. */
  lastUse: boolean
  /** The last op without a gradient that a tensor needing one went through. */
  lastCut: { readonly op: string; readonly reason: string } | null
  /** Whether an exporter traces now: ops without a gradient are recorded too (see {@link withExportRecording}). */
  exporting: boolean
}

const ctx: RecordingContext = { noGradDepth: 0, transformDepth: 0, anomalyDepth: 0, backwardOf: null, lastUse: false, lastCut: null, exporting: false }

/** Runs fn with one field of the context set to `value`, restoring it afterwards (also when fn throws). */
function withField<K extends keyof RecordingContext, T>(key: K, value: RecordingContext[K], fn: () => T): T {
  const saved = ctx[key]
  ctx[key] = value
  try {
    return fn()
  } finally {
    ctx[key] = saved
  }
}

/**
 * @internal Throws when a function given to a transform returned a Promise: the transforms
 * restore their state when the function returns, so the part after an `await` would run
 * outside them (recorded by nobody, or by the wrong transform).
 */
export function refuseAsync(result: unknown, where: string): void {
  if (typeof result === 'object' && result !== null && typeof (result as { then?: unknown }).then === 'function') {
    throw new GradientError(`${where}: the function returned a Promise; transforms are synchronous (compute with tensors, then await outside ${where})`)
  }
}

/** Runs the synchronous `fn` one level deeper in the nesting counter `depth`; a Promise result is refused, naming `where`. */
function nested<T>(depth: 'noGradDepth' | 'anomalyDepth', where: string, fn: () => T): T {
  ctx[depth]++
  try {
    const out = fn()
    refuseAsync(out, where)
    return out
  } finally {
    ctx[depth]--
  }
}

/**
 * Runs `fn` without recording graph nodes: its results never need a gradient. `fn` must be
 * synchronous (recording is restored when it returns); one returning a Promise is refused.
 */
export function noGrad<T>(fn: () => T): T {
  return nested('noGradDepth', 'noGrad', fn)
}

/** @internal Whether ops record nodes now. */
export function isRecording(): boolean {
  return ctx.noGradDepth === 0
}

/** @internal Runs fn with recording forced on or off (backward passes use this). */
export function withRecording<T>(on: boolean, fn: () => T): T {
  return withField('noGradDepth', on ? 0 : 1, fn)
}

/**
 * @internal Whether the VJP now running is its node's last use: the backward pass records
 * nothing and releases each node right after its VJP (no `retainGraph`), so a VJP may
 * overwrite what its forward saved (a fused op reusing its tape as scratch). False outside
 * such a pass.
 */
export function vjpIsLastUse(): boolean {
  return ctx.lastUse
}

/** @internal Runs fn with {@link vjpIsLastUse} answering `last`. */
export function withLastUse<T>(last: boolean, fn: () => T): T {
  return withField('lastUse', last, fn)
}

/** @internal Number of active differentiation transforms (grad inside grad is 2). */
export function activeTransforms(): number {
  return ctx.transformDepth
}

/**
 * @internal Runs fn inside one more differentiation transform. Recording is on inside it
 * even under an enclosing `noGrad` (a transform asked for a gradient explicitly); a `noGrad`
 * inside the transformed function still turns it off there.
 *
 * `releasesGraph`: the transform has finished with its graph when it returns (grad,
 * valueAndGrad and jvp have run their backward; only vjp hands out a pullback that needs it).
 * When such a transform is the outermost, every node recorded inside it stops counting in
 * `liveGraphNodes()` at the end: the branches its backward never reached (a layer's final state
 * nobody used) included, which no later pass can use since its traced inputs are gone. So a
 * training step leaves the count where it found it, and a count that grows means a real leak.
 */
export function inTransform<T>(fn: () => T, releasesGraph = false): T {
  const outermost = ctx.transformDepth === 0
  if (outermost) ctx.lastCut = null // a cut from an earlier, unrelated computation says nothing about this one
  const collects = outermost && releasesGraph
  if (collects) beginGraphGeneration()
  ctx.transformDepth++
  const savedNoGrad = ctx.noGradDepth
  ctx.noGradDepth = 0
  try {
    return fn()
  } finally {
    ctx.noGradDepth = savedNoGrad
    ctx.transformDepth--
    if (collects) endGraphGeneration()
  }
}

/**
 * @internal Runs fn with every op recorded whose input is recorded or traced, those without a
 * gradient (comparisons, argmax, casts to int32) included, so an exporter sees the whole
 * computation. Their nodes' VJPs give symbolic zeros; nothing differentiates such a graph.
 */
export function withExportRecording<T>(fn: () => T): T {
  return withField('exporting', true, fn)
}

/** The same values as `x`, cut from the graph: no gradient flows through the result. */
export function stopGradient(x: Tensor): Tensor {
  // An exporter's trace keeps the value in the graph (an identity without a gradient), not a baked constant.
  if (ctx.exporting && x.requiresGrad) return makeOutput('stopGradient', [x], x._data, x.shape, STOPPED)
  return x.requiresGrad ? new Tensor(x._data, x.shape) : x
}

const STOPPED = noGradient('stopGradient')

/**
 * Runs `fn` in anomaly mode: the first op whose forward or backward produces NaN or
 * Infinity throws an {@link AnomalyError} naming the op and its input shapes. `fn` must be
 * synchronous; one returning a Promise is refused.
 */
export function detectAnomaly<T>(fn: () => T): T {
  return nested('anomalyDepth', 'detectAnomaly', fn)
}

/** @internal Runs fn while the backward of `op` executes, so anomaly errors can say so. */
export function duringBackwardOf<T>(op: string, fn: () => T): T {
  return withField('backwardOf', op, fn)
}

function checkFinite(op: string, inputs: readonly Tensor[], data: TensorData): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      const what = Number.isNaN(data[i]) ? 'NaN' : 'Infinity'
      const where = ctx.backwardOf === null ? `forward of ${op}` : `backward of ${ctx.backwardOf} (op ${op})`
      const shapes = inputs.map((t) => fmtShape(t.shape)).join(', ')
      throw new AnomalyError(`anomaly: ${where} produced ${what} at element ${i}; input shapes ${shapes}`)
    }
  }
}

/**
 * The VJP an op hands to {@link makeOutput}: given the cotangent of its result and which
 * inputs need one, one cotangent per input (`null` is a symbolic zero). Never `null` itself:
 * say {@link noGradient} instead.
 */
export type Vjp = (cotangent: Tensor, needs: readonly boolean[]) => ReturnType<NonNullable<GraphNode['vjp']>>

/**
 * The VJP of an op with several results ({@link makeOutputs}): one cotangent per result,
 * `null` for a result the differentiated function did not use (a symbolic zero, so the op
 * can skip that part of its backward).
 */
export type MultiVjp = NonNullable<GraphNode['vjp']>

/**
 * @internal The last op without a gradient that a tensor needing one went through (and why),
 * or null. Transforms quote it when a function's result turns out not to be differentiable.
 */
export function lastNoGradientOp(): { readonly op: string; readonly reason: string } | null {
  return ctx.lastCut
}

/**
 * @internal Wraps an op's freshly computed data as its output tensor, recording a graph
 * node when recording is on and some input needs a gradient. `vjp` is the op's pullback, or
 * {@link noGradient}('why') for an op without a gradient: its output is a constant (gradients
 * through it are symbolic zeros) and the reason is kept for {@link lastNoGradientOp}.
 * `attributes`: the op's non-tensor arguments, kept on the node for exporters.
 */
export function makeOutput(op: string, inputs: Tensor[], data: TensorData, shape: readonly number[], vjp: Vjp | NoGradient, attributes?: OpAttributes): Tensor {
  if (ctx.anomalyDepth > 0) checkFinite(op, inputs, data)
  if (recordsNode(op, inputs, vjp)) {
    const pull = isNoGradient(vjp) ? zeroVjp(inputs) : vjp
    // A single result's cotangent is never a symbolic zero: backward only runs a node it reached.
    return new Tensor(
      data,
      shape,
      true,
      recordedNode(op, inputs, (gs, needs) => pull(gs[0] as Tensor, needs), 1, attributes),
    )
  }
  return new Tensor(data, shape)
}

/** One result of an op with several ({@link makeOutputs}): its data and shape. */
export interface OutputData {
  /** The result's row-major data. */
  readonly data: TensorData
  /** Its shape. */
  readonly shape: readonly number[]
}

/**
 * @internal {@link makeOutput} for an op with several results: one graph node shared by all
 * of them, so the op's backward runs once with a cotangent per result (`null` for a result
 * nobody used). Each result is its own tensor; none is a slice of a packed buffer.
 * `attributes`: the op's non-tensor arguments, kept on the node for exporters.
 */
export function makeOutputs(op: string, inputs: Tensor[], outputs: readonly OutputData[], vjp: MultiVjp | NoGradient, attributes?: OpAttributes): Tensor[] {
  if (ctx.anomalyDepth > 0) for (const o of outputs) checkFinite(op, inputs, o.data)
  if (recordsNode(op, inputs, vjp)) {
    const node = recordedNode(op, inputs, isNoGradient(vjp) ? zeroVjp(inputs) : vjp, outputs.length, attributes)
    return outputs.map((o, k) => new Tensor(o.data, o.shape, true, node, k))
  }
  return outputs.map((o) => new Tensor(o.data, o.shape))
}

/** A new graph node, remembered for release by the enclosing transform when it has one. */
function recordedNode(op: string, inputs: Tensor[], vjp: MultiVjp, outputs: number, attributes: OpAttributes | undefined): GraphNode {
  const node = createNode(op, inputs, vjp, outputs, attributes)
  return node
}

/** Whether an op's results get a graph node: recording is on, an input needs a gradient, and the op has one. */
function recordsNode(op: string, inputs: readonly Tensor[], vjp: MultiVjp | Vjp | NoGradient): boolean {
  if (ctx.noGradDepth !== 0) return false
  for (let i = 0; i < inputs.length; i++) {
    if (!inputs[i].requiresGrad) continue
    if (!isNoGradient(vjp) || ctx.exporting) return true
    ctx.lastCut = { op, reason: vjp.noGradient }
    return false
  }
  return false
}

/** The VJP of an op without a gradient recorded for an exporter: a symbolic zero per input. */
function zeroVjp(inputs: readonly Tensor[]): Vjp & MultiVjp {
  return () => inputs.map(() => null)
}
