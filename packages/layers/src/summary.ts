/**
 * Describing parameters: how many there are ({@link parameterCount}), a torchinfo-like table
 * of every tensor with its dotted name, shape, dtype and count ({@link summary}), and the
 * nested tree as readable text ({@link formatParams}). These are what to print: a `Params` is
 * an Immutable.js map, which Node's `console.log` shows by its internal fields.
 * @module
 */
import { ArgumentError, type DType, Tensor } from '@graphgrad/core'
import { describeValue } from '@graphgrad/core/internal'
import { type Map as IMap, isMap } from 'immutable'
import type { Params } from './layer.ts'
import { type SubLayer, type SubLayers, checkParams } from './model.ts'

/** One parameter tensor of a {@link summary}. */
export interface ParamRow {
  /** Its dotted name, as in the state_dict (`encoder.weight_ih_l0`). */
  readonly name: string
  /** Its shape. */
  readonly shape: readonly number[]
  /** Its dtype. */
  readonly dtype: DType
  /** Its number of elements. */
  readonly count: number
}

/** The parameters of one top-level entry (a sub-layer) of a {@link summary}. */
export interface SubLayerTotal {
  /** The sub-layer's name (`encoder`). */
  readonly name: string
  /** How many scalars its tensors hold (0 for a parameterless sub-layer such as dropout). */
  readonly count: number
  /** How many tensors it has. */
  readonly tensors: number
}

/** What {@link summary} returns: the rows as data, and the table as text (`String(s)`, `s.table`, or `console.log(s)`). */
export interface ParamSummary {
  /** Every parameter tensor, in the parameters' order. */
  readonly rows: readonly ParamRow[]
  /** Each top-level entry that is a map of parameters (a sub-layer), with its totals. */
  readonly subLayers: readonly SubLayerTotal[]
  /** The number of scalars in all the tensors. */
  readonly total: number
  /** Their size in bytes (4 per float32 or int32 element, 8 per float64). */
  readonly bytes: number
  /** The table: one row per tensor, the sub-layers' totals, the total. */
  readonly table: string
}

const INSPECT = Symbol.for('nodejs.util.inspect.custom')

/** Throws unless `params` is an Immutable.js map, naming what it is. */
function checkMap(params: unknown, where: string): asserts params is Params {
  if (isMap(params)) return
  throw new ArgumentError(`${where}: the parameters must be an Immutable.js map of tensors (what layer.init(seed) returns), found ${describeValue(params)}`)
}

/** Calls `leaf` for every tensor of a parameter tree, depth first, with its dotted name; refuses anything else. */
function walk(node: Params, prefix: string, where: string, leaf: (name: string, t: Tensor) => void): void {
  for (const [k, v] of (node as IMap<unknown, unknown>).entries()) {
    const name = prefix === '' ? String(k) : `${prefix}.${String(k)}`
    if (v instanceof Tensor) leaf(name, v)
    else if (isMap(v)) walk(v as Params, name, where, leaf)
    else throw new ArgumentError(`${where}: '${name}' must be a Tensor or a map of them, found ${describeValue(v)}`)
  }
}

/**
 * The number of scalars in a parameter tree (every tensor's element count, summed): the
 * `sum(p.numel() for p in model.parameters())` of PyTorch.
 */
export function parameterCount(params: Params): number {
  checkMap(params, 'parameterCount')
  let n = 0
  walk(params, '', 'parameterCount', (_, t) => {
    n += t.size
  })
  return n
}

const BYTES: Readonly<Record<DType, number>> = { float32: 4, float64: 8, int32: 4 }

const thousands = (n: number): string => n.toLocaleString('en-US')
const shapeText = (shape: readonly number[]): string => `[${shape.join(', ')}]`

function sizeText(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(1)} kB`
  if (bytes < 1e9) return `${(bytes / 1e6).toFixed(1)} MB`
  return `${(bytes / 1e9).toFixed(2)} GB`
}

/** The text of the table: columns sized to their contents, numbers aligned right. */
function renderTable(rows: readonly ParamRow[], subLayers: readonly SubLayerTotal[], total: number, bytes: number): string {
  const body = rows.map((r) => [r.name, shapeText(r.shape), r.dtype, thousands(r.count)])
  const subs = subLayers.map((s) => [s.name, '', '', thousands(s.count)])
  const totalLine = ['total', '', '', thousands(total)]
  const header = ['name', 'shape', 'dtype', 'count']
  const widths = header.map((h, i) => Math.max(h.length, ...[...body, ...subs, totalLine].map((cells) => cells[i].length)))
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ')
  const rule = (ch: string): string => ch.repeat(widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1))
  const tensors = `${rows.length} tensor${rows.length === 1 ? '' : 's'}, ${sizeText(bytes)}`
  return [
    rule('='),
    line(header),
    rule('='),
    ...body.map(line),
    ...(subs.length > 0 ? [rule('-'), ...subs.map(line)] : []),
    rule('='),
    line(totalLine),
    `${tensors}`,
    rule('='),
  ].join('\n')
}

/**
 * A torchinfo-like description of a model's parameters: one row per tensor (dotted name,
 * shape, dtype, count), each sub-layer's total, the total count and size. Give a layer or
 * model and its parameters (`summary(net, params)`; a model checks that they have an entry
 * for each of its sub-layers), a layer or model alone (its parameters are then `init(0)`'s),
 * or parameters alone (`summary(params)`). The result has the rows as
 * data and prints as the table: `console.log(summary(net, params))`, or `String(...)`.
 */
export function summary(layerOrParams: SubLayer | Params, params?: Params): ParamSummary {
  const where = 'summary'
  let tree: unknown = params
  if (params === undefined) {
    if (isMap(layerOrParams)) tree = layerOrParams
    else if (typeof (layerOrParams as { init?: unknown } | null)?.init === 'function') tree = (layerOrParams as SubLayer).init(0)
    else
      throw new ArgumentError(
        `${where}: expected a layer or model (with init(seed)) or its parameters (an Immutable.js map), found ${describeValue(layerOrParams)}`,
      )
  } else if (typeof (layerOrParams as { init?: unknown } | null)?.init !== 'function') {
    throw new ArgumentError(
      `${where}: with parameters as second argument, the first must be their layer or model (with init(seed)), found ${describeValue(layerOrParams)}`,
    )
  } else {
    // A model (or anything with its sub-layers by name) knows what its parameters must hold.
    const layers = (layerOrParams as { layers?: unknown }).layers
    checkMap(params, where)
    if (typeof layers === 'object' && layers !== null && !isMap(layers)) checkParams(params, Object.entries(layers as SubLayers), where)
  }
  checkMap(tree, where)
  const rows: ParamRow[] = []
  walk(tree, '', where, (name, t) => rows.push(Object.freeze({ name, shape: Object.freeze([...t.shape]), dtype: t.dtype, count: t.size })))
  const subLayers: SubLayerTotal[] = []
  for (const [k, v] of (tree as IMap<unknown, unknown>).entries()) {
    if (!isMap(v)) continue
    const inside = rows.filter((r) => r.name.startsWith(`${String(k)}.`))
    subLayers.push(Object.freeze({ name: String(k), count: inside.reduce((a, r) => a + r.count, 0), tensors: inside.length }))
  }
  const total = rows.reduce((a, r) => a + r.count, 0)
  const bytes = rows.reduce((a, r) => a + r.count * BYTES[r.dtype], 0)
  const table = renderTable(rows, subLayers, total, bytes)
  const out = { rows: Object.freeze(rows), subLayers: Object.freeze(subLayers), total, bytes, table }
  Object.defineProperties(out, { toString: { value: () => table }, [INSPECT]: { value: () => table } })
  return Object.freeze(out)
}

/** Options of {@link formatParams}. */
export interface FormatParamsOptions {
  /** Print each tensor's values (its repr) instead of its dtype and shape (default false). */
  values?: boolean
}

/**
 * The parameter tree as indented text, one line per entry: `weight: float32 [4, 8]`, or with
 * `{ values: true }` each tensor's repr. For `console.log`, which shows an Immutable.js map's
 * internal fields: `console.log(formatParams(params))`.
 */
export function formatParams(params: Params, options: FormatParamsOptions = {}): string {
  const where = 'formatParams'
  checkMap(params, where)
  if (typeof options !== 'object' || options === null)
    throw new ArgumentError(`${where}: options must be an object such as { values: true }, found ${describeValue(options)}`)
  const values = options.values ?? false
  const lines: string[] = []
  const visit = (node: Params, indent: string, path: string): void => {
    for (const [k, v] of (node as IMap<unknown, unknown>).entries()) {
      const name = path === '' ? String(k) : `${path}.${String(k)}`
      if (v instanceof Tensor) {
        const head = `${indent}${String(k)}: `
        const text = values
          ? String(v)
              .split('\n')
              .join(`\n${' '.repeat(head.length)}`)
          : `${v.dtype} ${shapeText(v.shape)}`
        lines.push(head + text)
      } else if (isMap(v)) {
        if ((v as IMap<unknown, unknown>).size === 0) lines.push(`${indent}${String(k)}: {}`)
        else {
          lines.push(`${indent}${String(k)}:`)
          visit(v as Params, `${indent}  `, name)
        }
      } else throw new ArgumentError(`${where}: '${name}' must be a Tensor or a map of them, found ${describeValue(v)}`)
    }
  }
  visit(params, '', '')
  return lines.length === 0 ? '{}' : lines.join('\n')
}
