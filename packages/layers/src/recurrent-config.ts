/**
 * The configuration of a recurrent layer stack, from its constructor options to the checks of
 * each call: {@link configure} validates the options of `rnn`, `lstm` and `gru` into a
 * {@link Config}; the parameter layout (PyTorch's names, shapes and state_dict order) and its
 * initialisation follow from it; {@link shaped}, {@link checkInput}, {@link checkLengths} and
 * {@link checkState} validate what `apply` is given against it. The layers and their run loop
 * are in recurrent.ts.
 * @module
 */
import { ArgumentError, DTypeError, MAX_ELEMENTS, ShapeError, Tensor, fmtShape, foldIn } from '@graphgrad/core'
import { checkShape } from '@graphgrad/core/internal'
import type { DType } from '@graphgrad/core'
import { OrderedMap } from 'immutable'
import type { Layer, Params } from './layer.ts'
import { checkInput as checkTensorInput, checkOptions, checkSize, param } from './compose.ts'
import { type Initializer, uniformInit } from './init.ts'
import type { CellFamily } from './cells/recurrence.ts'
import type { RecurrentOptions } from './recurrent.ts'

/** A recurrent layer stack's validated options: what {@link configure} makes of a {@link RecurrentOptions}. */
export interface Config {
  readonly family: CellFamily
  readonly where: string
  readonly inputSize: number
  readonly hidden: number
  readonly layers: number
  readonly directions: number
  readonly bias: boolean
  readonly batchFirst: boolean
  readonly dropout: number
  readonly dtype: DType
  readonly fused: boolean
  readonly inits: { readonly weight_ih: Initializer; readonly weight_hh: Initializer; readonly bias: Initializer }
}

/** Validates the constructor options of the layer `where` (`rnn`, `lstm`, `gru`) with cell family `family`, filling in PyTorch's defaults. */
export function configure(family: CellFamily, where: string, o: RecurrentOptions, extraKeys: readonly string[] = []): Config {
  if (o === null || typeof o !== 'object') throw new ArgumentError(`${where}: options must be an object with inputSize and hiddenSize`)
  // PyTorch's snake_case (hidden_size) or a typo is refused with the nearest name, never ignored.
  checkOptions(o, { ...RECURRENT_OPTION_KEYS, ...Object.fromEntries(extraKeys.map((k) => [k, true])) }, where)
  const dropout = o.dropout ?? 0
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout <= 1))
    throw new ArgumentError(`${where}: dropout must be a probability in [0, 1], got ${String(dropout)}`)
  const dtype = o.dtype ?? 'float32'
  if (dtype !== 'float32' && dtype !== 'float64') throw new DTypeError(`${where}: dtype must be float32 or float64, got ${String(dtype)}`)
  const cfg: Config = {
    family,
    where,
    inputSize: checkSize(o.inputSize, 'inputSize', where),
    hidden: checkSize(o.hiddenSize, 'hiddenSize', where),
    layers: checkSize(o.numLayers ?? 1, 'numLayers', where),
    directions: o.bidirectional === true ? 2 : 1,
    bias: o.bias ?? true,
    batchFirst: o.batchFirst ?? false,
    dropout,
    dtype,
    fused: o.fused ?? true,
    inits: {
      weight_ih: o.weightIhInit ?? pytorchDefault(o.hiddenSize),
      weight_hh: o.weightHhInit ?? pytorchDefault(o.hiddenSize),
      bias: o.biasInit ?? pytorchDefault(o.hiddenSize),
    },
  }
  // A size the options allow can still make a parameter no tensor can hold: say so here, by
  // the layer's name, rather than from the initialiser's allocation at init().
  for (const [name, shape] of parameterShapes(cfg)) checkShape(shape, `${where}: parameter '${name}'`)
  return cfg
}

/** Every key of {@link RecurrentOptions}: a record, so that tsc fails when an option is added without it. */
const RECURRENT_OPTION_KEYS: Readonly<Record<keyof RecurrentOptions, true>> = {
  inputSize: true,
  hiddenSize: true,
  numLayers: true,
  bias: true,
  batchFirst: true,
  dropout: true,
  bidirectional: true,
  dtype: true,
  fused: true,
  weightIhInit: true,
  weightHhInit: true,
  biasInit: true,
}

/** PyTorch's reset_parameters for recurrent layers: uniform in ±1/sqrt(hidden). */
function pytorchDefault(hidden: number): Initializer {
  return uniformInit(1 / Math.sqrt(hidden))
}

/** The parameters of one direction of one layer, in state_dict order, with their shapes. */
export function directionParams(cfg: Config, k: number, d: number): [string, number[]][] {
  const sfx = `_l${k}${d === 1 ? '_reverse' : ''}`
  const GH = cfg.family.kernel.gates * cfg.hidden
  const inSize = k === 0 ? cfg.inputSize : cfg.directions * cfg.hidden
  const list: [string, number[]][] = [
    [`weight_ih${sfx}`, [GH, inSize]],
    [`weight_hh${sfx}`, [GH, cfg.hidden]],
  ]
  if (cfg.bias) list.push([`bias_ih${sfx}`, [GH]], [`bias_hh${sfx}`, [GH]])
  return list
}

/** Every parameter name and shape of a layer stack, in PyTorch's state_dict order. */
function parameterShapes(cfg: Config): [string, number[]][] {
  const all: [string, number[]][] = []
  for (let k = 0; k < cfg.layers; k++) for (let d = 0; d < cfg.directions; d++) all.push(...directionParams(cfg, k, d))
  return all
}

/** A layer stack's parameters, in state_dict order, each from its initialiser with its own key folded from `seed`. */
export function init(cfg: Config, seed: Parameters<Layer['init']>[0]): Params {
  const initFor = (name: string): Initializer =>
    name.startsWith('weight_ih') ? cfg.inits.weight_ih : name.startsWith('weight_hh') ? cfg.inits.weight_hh : cfg.inits.bias
  return OrderedMap(parameterShapes(cfg).map(([name, shape], i) => [name, initFor(name)(shape, foldIn(seed, i), { dtype: cfg.dtype })])) as Params
}

/** The parameter `name` of `params`, refused unless it has `shape` and `dtype` (the input's). */
export function shaped(cfg: Config, params: Params, name: string, shape: number[], dtype: DType): Tensor {
  const p = param(params, name, cfg.where)
  if (p.shape.length !== shape.length || p.shape.some((n, i) => n !== shape[i])) {
    throw new ShapeError(`${cfg.where}: parameter '${name}' must have shape ${fmtShape(shape)}, got ${fmtShape(p.shape)}`)
  }
  if (p.dtype !== dtype) throw new DTypeError(`${cfg.where}: parameter '${name}' is ${p.dtype} but the input is ${dtype}`)
  return p
}

/** Validates a call's `lengths` for T steps and B sequences: null when absent or all full-length, else a copy of them. */
export function checkLengths(cfg: Config, lengths: readonly number[] | Tensor | undefined, T: number, B: number): number[] | null {
  if (lengths === undefined) return null
  const list = lengths instanceof Tensor ? Array.from(lengths._data) : lengths
  if (!Array.isArray(list) && !(lengths instanceof Tensor)) throw new ArgumentError(`${cfg.where}: lengths must be an array of numbers, got ${typeof lengths}`)
  if (lengths instanceof Tensor && lengths.rank !== 1) throw new ShapeError(`${cfg.where}: lengths must be 1-d, got shape ${fmtShape(lengths.shape)}`)
  if (list.length !== B) throw new ShapeError(`${cfg.where}: lengths has ${list.length} entries but the batch has ${B} sequences`)
  list.forEach((n, b) => {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw new ArgumentError(`${cfg.where}: lengths[${b}] = ${String(n)} must be a positive integer`)
    if (n > T) throw new ArgumentError(`${cfg.where}: lengths[${b}] = ${n} is longer than the sequence (${T} steps)`)
  })
  return list.every((n) => n === T) ? null : list.slice()
}

/** Validates an initial state `name` (h0 or c0) as [layers*directions, B, hidden] of `dtype`: null when absent. */
export function checkState(cfg: Config, name: string, s: Tensor | undefined, B: number, dtype: DType): Tensor | null {
  if (s === undefined) return null
  if (!(s instanceof Tensor)) throw new ArgumentError(`${cfg.where}: ${name} must be a Tensor, got ${typeof s}`)
  const want = [cfg.layers * cfg.directions, B, cfg.hidden]
  if (s.rank !== 3 || s.shape.some((n, i) => n !== want[i])) {
    throw new ShapeError(`${cfg.where}: ${name} must have shape ${fmtShape(want)} (layers*directions, batch, hidden), got ${fmtShape(s.shape)}`)
  }
  if (s.dtype !== dtype) throw new DTypeError(`${cfg.where}: ${name} is ${s.dtype} but the input is ${dtype}`)
  return s
}

/** Refuses an input that is not a non-empty float tensor of rank 3 with inputSize features. */
export function checkInput(cfg: Config, x: Tensor): void {
  checkTensorInput(x, cfg.where)
  const layout = cfg.batchFirst ? '[batch, seq, inputSize]' : '[seq, batch, inputSize]'
  if (x.rank !== 3) throw new ShapeError(`${cfg.where}: expected an input of rank 3 ${layout}, got shape ${fmtShape(x.shape)}`)
  if (x.shape[2] !== cfg.inputSize)
    throw new ShapeError(`${cfg.where}: expected ${cfg.inputSize} input features (inputSize), got shape ${fmtShape(x.shape)} ${layout}`)
  if (x.dtype === 'int32') throw new DTypeError(`${cfg.where}: the input must be float32 or float64, got int32`)
  if (x.shape[cfg.batchFirst ? 1 : 0] === 0) throw new ShapeError(`${cfg.where}: the sequence is empty (shape ${fmtShape(x.shape)})`)
  // The scan keeps every step's gate activations for backward ([T, B, gates*hidden]) and
  // writes [T, B, directions*hidden]: refuse by name before allocating either.
  const [T, B] = cfg.batchFirst ? [x.shape[1], x.shape[0]] : [x.shape[0], x.shape[1]]
  const widest = Math.max(cfg.family.kernel.gates, cfg.directions) * cfg.hidden
  if (T * B * widest > MAX_ELEMENTS) {
    throw new ShapeError(
      `${cfg.where}: an input of shape ${fmtShape(x.shape)} needs per-step activations of ${fmtShape([T, B, widest])} (${T * B * widest} elements), more than the ${MAX_ELEMENTS} a tensor may hold`,
    )
  }
}
