/**
 * Checkpoints of the language model. A checkpoint is a directory:
 *
 * ```
 * DIR/checkpoint.json               which version is current, with the size and SHA-256 of each of its files
 * DIR/step-000400-1a2b3c/           the current version:
 *   config.json                     model sizes, training settings, vocabulary, corpus fingerprint
 *   progress.json                   step, data position, loss and validation history
 *   model.safetensors               the weights (state_dict names, as PyTorch would name them)
 *   optimizer.safetensors           Adam's moments and step count
 *   lstm-state.safetensors          the LSTM state carried into the next window (h, c)
 * ```
 *
 * Saving is atomic: a new version is written and flushed under a temporary name, renamed
 * into place, and only then does `checkpoint.json` (replaced atomically) point at it; older
 * versions are removed after that. A crash at any moment leaves a complete checkpoint.
 * Loading verifies every file against `checkpoint.json` and every field against the model.
 * @module
 */
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, readdir, rename, rm, stat } from 'node:fs/promises'
import { join, sep } from 'node:path'
import { OrderedMap } from 'immutable'
import { GraphgradError, type Tensor, loadSafetensors, saveSafetensors, zeros } from '@graphgrad/core'
import { loadStateDict, saveStateDict } from '@graphgrad/layers'
import { loadOptimizerState, saveOptimizerState } from '@graphgrad/optim'
import { sha256 } from './corpus.ts'
import { LmError } from './errors.ts'
import { POINTER, errorCode } from './checkpoint-dir.ts'
import { syncDirectory, writeFileAtomic, writeNewFile } from './files.ts'
import { JsonReader } from './json.ts'
import { type CheckpointMeta, checkOptimizerState, checkState, encodeConfig, encodeProgress, nonFinite, readConfig, readProgress } from './checkpoint-format.ts'
import { loadingProblem, modelParameterCount } from './limits.ts'
import { type CharModel, charModel } from './model.ts'
import { formatBytes, machineMemoryLimit } from '../shared/resources.ts'
import type { TrainState } from './train.ts'

export type { CheckpointMeta } from './checkpoint-format.ts'

/** The `format` of `checkpoint.json` and `config.json`. */
const CHECKPOINT_FORMAT = 'graphgrad-lm/1'

const FILES = ['config.json', 'progress.json', 'model.safetensors', 'optimizer.safetensors', 'lstm-state.safetensors'] as const
type FileName = (typeof FILES)[number]

/** A loaded checkpoint: what the run is, the model it describes, and where training stands. */
export interface Checkpoint extends CheckpointMeta {
  /** The model of `meta.model`. */
  readonly charModel: CharModel
  /** The training state to continue from. */
  readonly state: TrainState
}

/**
 * Writes `state` as the new current version of the checkpoint in `dir` (created if needed).
 * A state the loader would refuse (a NaN or infinite number anywhere) is an {@link LmError}
 * and nothing is written: the current version stays current.
 */
export async function saveCheckpoint(dir: string, meta: CheckpointMeta, state: TrainState, windowsPerPass: number): Promise<void> {
  const { layers, hidden } = meta.model
  const carried = state.carried ?? { h: zeros([layers, meta.training.batch, hidden]), c: zeros([layers, meta.training.batch, hidden]) }
  // Check and encode everything first, so a bad value fails before anything touches the disk.
  const bad = nonFinite({ ...state, carried })
  if (bad !== undefined) throw new LmError(`the checkpoint of step ${state.step} would not load back (${bad}), so it was not written`)
  const config = encodeConfig(CHECKPOINT_FORMAT, meta)
  const progress = encodeProgress(state, windowsPerPass, meta.training.seed)
  // Read back with the loader's own readers: what they would refuse is never written.
  readConfig(JsonReader.parse(config, 'config.json'), CHECKPOINT_FORMAT)
  readProgress(JsonReader.parse(progress, 'progress.json'))
  const bytes: Record<FileName, Uint8Array> = {
    'config.json': utf8(config),
    'progress.json': utf8(progress),
    'model.safetensors': saveStateDict(state.params, { format: CHECKPOINT_FORMAT }),
    'optimizer.safetensors': saveOptimizerState(state.optimizer),
    'lstm-state.safetensors': saveSafetensors(
      OrderedMap<string, Tensor>([
        ['h', carried.h],
        ['c', carried.c],
      ]),
      { format: CHECKPOINT_FORMAT },
    ),
  }
  await mkdir(dir, { recursive: true })
  const version = `step-${String(state.step).padStart(6, '0')}-${randomBytes(3).toString('hex')}`
  const temp = join(dir, `.tmp-${version}`)
  await mkdir(temp)
  try {
    for (const name of FILES) await writeNewFile(join(temp, name), bytes[name])
    await syncDirectory(temp)
    await rename(temp, join(dir, version))
  } catch (e) {
    await rm(temp, { recursive: true, force: true })
    throw e
  }
  await syncDirectory(dir)
  const files = Object.fromEntries(FILES.map((name) => [name, { bytes: bytes[name].length, sha256: sha256(bytes[name]) }]))
  await writeFileAtomic(join(dir, POINTER), utf8(`${JSON.stringify({ format: CHECKPOINT_FORMAT, current: version, step: state.step, files }, null, 1)}\n`))
  // The new version is current: older versions and leftovers of interrupted saves can go.
  for (const entry of await readdir(dir)) {
    if (entry !== version && (/^step-\d+-[0-9a-f]+$/.test(entry) || entry.startsWith('.tmp-step-')))
      await rm(join(dir, entry), { recursive: true, force: true })
  }
}

/**
 * Loads and verifies the checkpoint in `dir`. A missing directory or file, a file whose
 * size or hash differs from `checkpoint.json`, malformed JSON or safetensors, or weights
 * that do not fit the model `config.json` describes are {@link LmError}s naming the file.
 */
export async function loadCheckpoint(dir: string): Promise<Checkpoint> {
  const dirStat = await stat(dir).catch(() => null)
  if (dirStat === null) throw new LmError(`--checkpoint ${dir}: no such directory`)
  if (!dirStat.isDirectory()) throw new LmError(`--checkpoint ${dir} is not a directory (a checkpoint is a directory holding ${POINTER})`)
  const pointerPath = join(dir, POINTER)
  const pointerText = await readFile(pointerPath, 'utf8').catch((e: unknown) => {
    if (errorCode(e) === 'ENOENT') return null
    throw new LmError(`${pointerPath} cannot be read (${errorCode(e)})`)
  })
  if (pointerText === null) throw new LmError(`${dir} is not a language-model checkpoint: it has no ${POINTER}`)
  const pointer = JsonReader.parse(pointerText, pointerPath)
  const format = pointer.string('format')
  if (format !== CHECKPOINT_FORMAT) throw new LmError(`${pointerPath}: format '${format}' is not '${CHECKPOINT_FORMAT}' (a checkpoint of another model?)`)
  const current = pointer.string('current')
  if (!/^step-\d+-[0-9a-f]+$/.test(current)) throw new LmError(`${pointerPath} is corrupted: 'current' is ${JSON.stringify(current)}`)
  const manifest = pointer.object('files')
  const bytes = {} as Record<FileName, Uint8Array>
  for (const name of FILES) {
    const path = join(dir, current, name)
    const entry = manifest.object(name)
    const buf = await readFile(path).catch((e: unknown) => {
      if (errorCode(e) === 'ENOENT') return null
      throw new LmError(`${path} cannot be read (${errorCode(e)}: ${(e as Error).message})`)
    })
    if (buf === null) throw new LmError(`${path} is missing: the checkpoint is incomplete`)
    const size = entry.int('bytes')
    if (buf.length !== size) throw new LmError(`${path} is corrupted: ${buf.length} bytes, ${POINTER} recorded ${size} (truncated or overwritten?)`)
    if (sha256(buf) !== entry.string('sha256')) throw new LmError(`${path} is corrupted: its SHA-256 differs from the one ${POINTER} recorded`)
    bytes[name] = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
  }
  const at = (name: FileName): string => join(dir, current, name)
  const meta = readConfig(JsonReader.parse(text(bytes['config.json']), at('config.json')), CHECKPOINT_FORMAT)
  // Before anything is allocated: the weights config.json describes must be in the file, and fit in memory.
  const parameters = modelParameterCount(meta.model)
  const weights = bytes['model.safetensors'].length
  if (weights < 4 * parameters) {
    throw new LmError(
      `${at('config.json')} describes a model of ${parameters} parameters (${formatBytes(4 * parameters)} of weights), but model.safetensors holds only ${formatBytes(weights)}: a checkpoint of another model, or a corrupted one`,
    )
  }
  const memory = loadingProblem(meta.model, machineMemoryLimit())
  if (memory !== undefined) throw new LmError(`loading ${dir} ${memory}`)
  const model = charModel(meta.model)
  try {
    const params = loadStateDict(model.init(0), loadSafetensors(bytes['model.safetensors'], { source: at('model.safetensors') }))
    const optimizer = loadOptimizerState(bytes['optimizer.safetensors'])
    checkOptimizerState(optimizer, params, at('optimizer.safetensors'))
    const lstmState = loadSafetensors(bytes['lstm-state.safetensors'], { source: at('lstm-state.safetensors') })
    const progress = readProgress(JsonReader.parse(text(bytes['progress.json']), at('progress.json')))
    const state: TrainState = {
      ...progress,
      params,
      optimizer,
      carried: { h: need(lstmState, 'h', at('lstm-state.safetensors')), c: need(lstmState, 'c', at('lstm-state.safetensors')) },
    }
    checkState(state, meta, join(dir, current))
    const bad = nonFinite(state)
    if (bad !== undefined)
      throw new LmError(
        `${join(dir, current)}${sep}${bad}; the run had diverged before this checkpoint was written, so it can be neither sampled from nor resumed`,
      )
    return { ...meta, charModel: model, state }
  } catch (e) {
    if (e instanceof GraphgradError)
      throw new LmError(
        `${join(dir, current)} does not fit the model its config.json describes (a checkpoint of another model, or a corrupted one): ${e.message}`,
      )
    throw e
  }
}

function need(tensors: OrderedMap<string, Tensor>, name: string, file: string): Tensor {
  const t = tensors.get(name)
  if (t === undefined) throw new LmError(`${file} has no tensor '${name}'`)
  return t
}

function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s)
}

function text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes)
}
