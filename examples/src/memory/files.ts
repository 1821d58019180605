/**
 * Writing the experiment's outputs: text files (results.json, curves.svg) and trained
 * weights (safetensors with PyTorch state_dict names), every one atomically, so that an
 * interrupted run never leaves a half-written file behind.
 * @module
 */
import { mkdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { type Params, stateDict } from '@graphgrad/layers'
import { writeFileAtomic, writeSafetensorsFile } from '@graphgrad/core/node'
import { InputError } from '../shared/cli.ts'

/**
 * Writes `text` to `path` atomically: to a temporary file in the same folder, flushed, then
 * renamed over `path` (as `writeSafetensorsFile` does for tensors). Creates the folder.
 */
export async function writeTextAtomic(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  try {
    await writeFileAtomic(path, text)
  } catch (e) {
    throw new InputError(`could not write ${path}: ${(e as Error).message}`, { cause: e })
  }
}

/** Saves trained parameters as a safetensors file (state_dict names, string metadata), creating the folder. */
export async function writeWeights(path: string, params: Params, metadata: Record<string, string>): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  await writeSafetensorsFile(path, stateDict(params), metadata)
}

/** The weights file of a run (a task at a lag, null for none, a model, a seed), relative to the output folder. */
export function weightsPath(task: string, lag: number | null, model: string, seed: number): string {
  return join('weights', `${task}${lag === null ? '' : `-lag${lag}`}-${model}-seed${seed}.safetensors`)
}
