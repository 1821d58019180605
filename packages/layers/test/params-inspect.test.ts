import { inspect } from 'node:util'
import { describe, expect, it, vi } from 'vitest'
import { List, Map as IMap, OrderedMap } from 'immutable'
import { tensor } from '@graphgrad/core'
// The package entry, as users import it: loading it is what installs the printing.
import { dropout, formatParams, linear, lstm, model } from '@graphgrad/layers'

const net = model({
  encoder: lstm({ inputSize: 2, hiddenSize: 3 }),
  drop: dropout({ p: 0.1 }),
  head: linear({ inFeatures: 3, outFeatures: 1 }),
})

describe("console.log of a parameter tree (Node's util.inspect)", () => {
  it('shows the counts and the tree of names, dtypes and shapes, not the map internals', () => {
    const p = net.init(0)
    const text = inspect(p)
    expect(text).toBe(
      [
        'Params (6 tensors, 88 parameters) {',
        ...formatParams(p)
          .split('\n')
          .map((l) => `  ${l}`),
        '}',
      ].join('\n'),
    )
    expect(text).toContain('    weight_hh_l0: float32 [12, 3]')
    expect(text).not.toMatch(/__ownerID|_root|_list/)
    // Nested in other values, as console.log({ params }) prints it.
    expect(inspect({ params: p })).toContain('Params (6 tensors, 88 parameters) {')
  })

  it('leaves every other map as Node printed it', () => {
    for (const m of [IMap({ a: 1 }), OrderedMap({ w: tensor([1]), note: 'x' }), OrderedMap(), IMap({ inner: IMap() })]) {
      expect(inspect(m)).toBe(inspect(m, { customInspect: false }))
    }
    expect(inspect(List([1, 2]))).toBe(inspect(List([1, 2]), { customInspect: false }))
  })

  it('adds nothing a program can enumerate, and a second load does not wrap it again', async () => {
    const proto = Object.getPrototypeOf(IMap()) as object
    const custom = Symbol.for('nodejs.util.inspect.custom')
    const before = (proto as Record<symbol, unknown>)[custom]
    expect(Object.getOwnPropertyDescriptor(proto, custom)?.enumerable).toBe(false)
    expect(Object.keys(OrderedMap({ a: 1 }))).not.toContain(custom.toString())
    // A fresh evaluation of the module (as a hot reload does) keeps the first method.
    vi.resetModules()
    await import('../src/params-inspect.ts')
    expect(inspect(net.init(0))).toMatch(/^Params \(6 tensors/)
    expect((proto as Record<symbol, unknown>)[custom]).toBe(before)
  })
})
