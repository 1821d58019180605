/**
 * Optimizer state to and from a flat map of tensors plus string metadata, the two parts of
 * a safetensors file: `saveSafetensors(tensors, metadata)` stores a state and
 * `optimizerStateFromTensors({ tensors: loadSafetensors(bytes), metadata: readSafetensorsMetadata(bytes) })`
 * restores it, step count included, so training resumes with exactly the same numbers.
 * @module
 */
import { type Map as IMap, OrderedMap } from 'immutable'
import { ArgumentError, Tensor, loadSafetensors, readSafetensorsMetadata, saveSafetensors } from '@graphgrad/core'
import type { OptimizerState } from './optimizer.ts'

/** The `format` metadata value of a saved optimizer state. */
export const OPTIMIZER_STATE_FORMAT = 'graphgrad-optimizer-state/1'

const PREFIX = 'state.'

/** An optimizer state as tensors and metadata, ready for `saveSafetensors(tensors, metadata)`. */
export interface SerializedOptimizerState {
  /**
   * One tensor per state slot, named `state.<parameter>.<slot>` (e.g.
   * `state.encoder.weight.exp_avg`), in parameter order.
   */
  readonly tensors: OrderedMap<string, Tensor>
  /**
   * `format` ({@link OPTIMIZER_STATE_FORMAT}), `optimizer` (its name), `step` (updates done,
   * decimal) and `params` (the parameter names in order, as a JSON array).
   */
  readonly metadata: Record<string, string>
}

/** Flattens a state into tensors and metadata (the inverse of {@link optimizerStateFromTensors}). */
export function optimizerStateToTensors(state: OptimizerState): SerializedOptimizerState {
  const where = 'optimizerStateToTensors'
  if (typeof state !== 'object' || state === null || !OrderedMap.isOrderedMap(state.slots)) {
    throw new ArgumentError(`${where}: expected an optimizer state from init() or step()`)
  }
  const tensors: [string, Tensor][] = []
  for (const [param, slots] of state.slots) {
    for (const [slot, t] of slots) {
      if (slot.includes('.')) throw new ArgumentError(`${where}: slot name '${slot}' of '${param}' contains '.'`)
      tensors.push([`${PREFIX}${param}.${slot}`, t])
    }
  }
  return {
    tensors: OrderedMap(tensors),
    metadata: {
      format: OPTIMIZER_STATE_FORMAT,
      optimizer: state.optimizer,
      step: String(state.step),
      params: JSON.stringify([...state.slots.keys()]),
    },
  }
}

/**
 * Rebuilds a state from {@link optimizerStateToTensors}'s output (for instance read back from
 * a safetensors file). Throws an ArgumentError naming the problem for metadata of another
 * format, a bad step count, or a tensor that belongs to no listed parameter.
 */
export function optimizerStateFromTensors(serialized: {
  readonly tensors: IMap<string, Tensor>
  readonly metadata: Readonly<Record<string, string>>
}): OptimizerState {
  const where = 'optimizerStateFromTensors'
  const { tensors, metadata } = serialized
  if (typeof metadata !== 'object' || metadata === null) throw new ArgumentError(`${where}: metadata is missing`)
  if (metadata.format !== OPTIMIZER_STATE_FORMAT) {
    throw new ArgumentError(
      `${where}: metadata format is ${JSON.stringify(metadata.format)}, expected '${OPTIMIZER_STATE_FORMAT}' (was this file saved from optimizerStateToTensors?)`,
    )
  }
  if (typeof metadata.optimizer !== 'string' || metadata.optimizer === '') throw new ArgumentError(`${where}: metadata has no optimizer name`)
  const step = Number(metadata.step)
  if (!/^\d+$/.test(metadata.step ?? '') || !Number.isSafeInteger(step))
    throw new ArgumentError(`${where}: metadata step must be a non-negative integer, got ${JSON.stringify(metadata.step)}`)
  let params: unknown
  try {
    params = JSON.parse(metadata.params ?? '')
  } catch {
    params = undefined
  }
  if (!Array.isArray(params) || !params.every((p) => typeof p === 'string') || new Set(params).size !== params.length) {
    throw new ArgumentError(`${where}: metadata params must be a JSON array of distinct parameter names, got ${JSON.stringify(metadata.params)}`)
  }
  const slots = new Map<string, [string, Tensor][]>((params as string[]).map((p) => [p, []]))
  for (const [key, t] of tensors) {
    const dot = key.lastIndexOf('.')
    const param = key.slice(PREFIX.length, dot)
    const entry = slots.get(param)
    if (!key.startsWith(PREFIX) || dot < PREFIX.length || entry === undefined) {
      throw new ArgumentError(`${where}: tensor '${key}' is not named state.<parameter>.<slot> for a parameter listed in the metadata`)
    }
    if (!(t instanceof Tensor)) throw new ArgumentError(`${where}: '${key}' is not a Tensor`)
    entry.push([key.slice(dot + 1), t])
  }
  return Object.freeze({
    optimizer: metadata.optimizer,
    step,
    slots: OrderedMap([...slots].map(([p, s]) => [p, OrderedMap(s)] as [string, OrderedMap<string, Tensor>])),
  })
}

/** An optimizer state as the bytes of a safetensors file (step count and parameter names in its metadata). */
export function saveOptimizerState(state: OptimizerState): Uint8Array {
  const { tensors, metadata } = optimizerStateToTensors(state)
  return saveSafetensors(tensors, metadata)
}

/** Reads an optimizer state back from {@link saveOptimizerState}'s bytes. */
export function loadOptimizerState(bytes: Uint8Array): OptimizerState {
  return optimizerStateFromTensors({ tensors: loadSafetensors(bytes), metadata: readSafetensorsMetadata(bytes) })
}
