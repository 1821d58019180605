// flattenTree names every leaf by its place in the tree, in the order it lists the leaves.
import { describe, expect, it } from 'vitest'
import { Map as IMap, OrderedMap } from 'immutable'
import { ArgumentError, flattenParams, flattenTree, zeros } from '@graphgrad/core'

const t = (n: number) => zeros([n])

describe('flattenTree paths', () => {
  it('joins map keys with dots and writes array positions as [i], in leaf order', () => {
    const tree = OrderedMap({ lstm: OrderedMap({ weight_ih_l0: t(1), bias: [t(2), t(3)] }), head: [OrderedMap({ w: t(4) })] })
    const flat = flattenTree(tree)
    expect(flat.paths).toEqual(['lstm.weight_ih_l0', 'lstm.bias[0]', 'lstm.bias[1]', 'head[0].w'])
    expect(flat.leaves.map((l) => l.shape[0])).toEqual([1, 2, 3, 4])
  })
  it('names a root tensor with the empty path and a root array with bare positions', () => {
    expect(flattenTree(t(1)).paths).toEqual([''])
    expect(flattenTree([t(1), [t(2)], IMap({ k: t(3) })]).paths).toEqual(['[0]', '[1][0]', '[2].k'])
    expect(flattenTree([]).paths).toEqual([])
  })
  it('refuses arrays when asked, through the given error', () => {
    const tree = OrderedMap({ a: OrderedMap({ b: [t(1)] }) })
    expect(() => flattenTree(tree, 'here', { arrays: false })).toThrow("here: expected a Tensor, an array or an Immutable.js Map at 'a.b', found an array")
    expect(() => flattenTree(tree, 'here', { arrays: false, refuse: (path) => new ArgumentError(`bad ${path}`) })).toThrow('bad a.b')
    expect(() => flattenTree(OrderedMap({ a: 3 }))).toThrow("tree: expected a Tensor, an array or an Immutable.js Map at 'a', found number")
  })
  it('gives flattenParams its names', () => {
    const tree = OrderedMap({ lstm: OrderedMap({ w: t(1), b: t(2) }), head: t(3) })
    expect([...flattenParams(tree).keys()]).toEqual(flattenTree(tree).paths)
    expect(() => flattenParams(OrderedMap({ a: [t(1)] }) as never)).toThrow("flattenParams: expected a Tensor or a Map at 'a', found an array")
  })
})
