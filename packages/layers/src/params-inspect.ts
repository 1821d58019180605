/**
 * Makes Node's `console.log(params)` print a parameter tree as its names, dtypes and shapes
 * instead of an Immutable.js map's internal fields (`_root`, `__ownerID`, ...).
 *
 * A `Params` is a plain Immutable.js map, so the only place to hook Node's printing is the
 * map prototype: this module gives it a non-enumerable `util.inspect.custom` method, once,
 * when `@graphgrad/layers` is loaded. The method takes over only for parameter trees (every
 * leaf a tensor, at least one tensor); any other map prints exactly as Node printed it
 * before. Browsers never call the method, and no property a program can enumerate changes.
 * @module
 */
import { Tensor } from '@graphgrad/core'
import { Map as IMap, isMap } from 'immutable'
import type { Params } from './layer.ts'
import { formatParams } from './summary.ts'

const INSPECT = Symbol.for('nodejs.util.inspect.custom')

/** The third argument Node passes to a custom inspect method: `util.inspect` itself. */
type Inspect = (value: unknown, options: object) => string

/**
 * How many tensors and scalars `value` holds when it is a parameter tree (tensors and sub-maps
 * only, with at least one tensor: what a layer's `init` returns); null for anything else.
 */
function parameterTreeSize(value: unknown): { tensors: number; count: number } | null {
  if (!isMap(value)) return null
  const size = { tensors: 0, count: 0 }
  const visit = (node: IMap<unknown, unknown>): boolean => {
    for (const v of node.values()) {
      if (v instanceof Tensor) {
        size.tensors++
        size.count += v.size
      } else if (!isMap(v) || !visit(v as IMap<unknown, unknown>)) return false
    }
    return true
  }
  return visit(value as IMap<unknown, unknown>) && size.tensors > 0 ? size : null
}

/** `Params (3 tensors, 52 parameters) {` and the tree indented below it. */
function inspectParams(params: Params, { tensors, count }: { tensors: number; count: number }): string {
  const body = formatParams(params)
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n')
  const plural = (n: number, word: string): string => `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`
  return `Params (${plural(tensors, 'tensor')}, ${plural(count, 'parameter')}) {\n${body}\n}`
}

function install(): void {
  const proto = Object.getPrototypeOf(IMap()) as object
  // Module re-evaluation (hot reload, two copies of this package) must neither throw nor stack
  // wrappers, and a method someone else put there is left alone.
  if (Object.prototype.hasOwnProperty.call(proto, INSPECT)) return
  Object.defineProperty(proto, INSPECT, {
    configurable: true,
    enumerable: false,
    writable: true,
    value: function inspectMap(this: unknown, _depth: number, options: object, inspect?: Inspect): string {
      const size = parameterTreeSize(this)
      if (size !== null) return inspectParams(this as Params, size)
      // Any other map: what Node shows without a custom method. Node passes `inspect` as the
      // third argument (since Node 16.14); without it there is nothing better to fall back to.
      return inspect === undefined ? String(this) : inspect(this, { ...options, customInspect: false })
    },
  })
}

install()
