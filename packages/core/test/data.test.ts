/** The data utilities: seeded permutations, shuffles, batches and padded sequences. */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { ArgumentError, ShapeError, arange, batches, foldIn, key, padSequences, randperm, shuffle, tensor } from '@graphgrad/core'

describe('randperm', () => {
  it('is a permutation of 0..n-1, the same for the same seed and different for another', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 1e9 }), (n, seed) => {
        const p = randperm(n, seed)
        expect(p.dtype).toBe('int32')
        expect(Array.from(p._data).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i))
        expect(Array.from(randperm(n, seed)._data)).toEqual(Array.from(p._data))
      }),
      { seed: 1, numRuns: 60 },
    )
    expect(Array.from(randperm(50, 1)._data)).not.toEqual(Array.from(randperm(50, 2)._data))
  })

  it('is uniform: every element lands in every position about equally often', () => {
    const n = 5
    const counts = Array.from({ length: n }, () => new Array<number>(n).fill(0))
    const draws = 20000
    for (let s = 0; s < draws; s++) randperm(n, foldIn(key(7), s))._data.forEach((v, i) => counts[v][i]++)
    // Expected draws/n = 4000 per cell; 5 standard deviations is about 280.
    for (const row of counts) for (const c of row) expect(Math.abs(c - draws / n)).toBeLessThan(300)
  })
})

describe('shuffle and batches', () => {
  const x = arange(0, 10).reshape([5, 2])
  const y = ['a', 'b', 'c', 'd', 'e']

  it('shuffle applies one permutation to every part of a record', () => {
    const s = shuffle({ x, y }, 3)
    const rows = s.x.toArray() as number[][]
    s.y.forEach((label, i) => expect(rows[i]).toEqual([2 * y.indexOf(label), 2 * y.indexOf(label) + 1]))
    expect([...s.y].sort()).toEqual(y)
  })

  it('batches cover the data once, in order without a seed, with a smaller last batch unless dropLast', () => {
    const got = [...batches({ x, y }, { batchSize: 2 })]
    expect(got.map((b) => b.y)).toEqual([['a', 'b'], ['c', 'd'], ['e']])
    expect(got[2].x.toArray()).toEqual([[8, 9]])
    expect([...batches(x, { batchSize: 2, dropLast: true })].map((b) => b.shape)).toEqual([
      [2, 2],
      [2, 2],
    ])
  })

  it('shuffled batches are a partition of the data, different per epoch key, the same for the same key', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 1e6 }), (n, size, epoch) => {
        const data = Array.from({ length: n }, (_, i) => i)
        const seen = [...batches(data, { batchSize: size, shuffle: foldIn(key(0), epoch) })].flat()
        expect([...seen].sort((a, b) => a - b)).toEqual(data)
        const again = [...batches(data, { batchSize: size, shuffle: foldIn(key(0), epoch) })].flat()
        expect(again).toEqual(seen)
      }),
      { seed: 2, numRuns: 80 },
    )
  })

  it('refuses parts of different lengths and a bad batch size, naming them', () => {
    expect(() => [...batches({ x, y: ['a'] }, { batchSize: 2 })]).toThrow(ShapeError)
    expect(() => batches({ x, y: ['a'] }, { batchSize: 2 })).toThrow("batches: 'y' has 1 items but 'x' has 5")
    expect(() => batches(x, { batchSize: 0 })).toThrow(ArgumentError)
    expect(() => batches(tensor(3), { batchSize: 1 })).toThrow(/scalar/)
  })
})

describe('padSequences', () => {
  it('pads token ids to one int32 batch and returns the lengths', () => {
    const { padded, lengths } = padSequences([[5, 2, 7], [3], [1, 1]])
    expect(padded.dtype).toBe('int32')
    expect(padded.toArray()).toEqual([
      [5, 2, 7],
      [3, 0, 0],
      [1, 1, 0],
    ])
    expect(lengths).toEqual([3, 1, 2])
    expect(padSequences([[5, 2], [3]], { batchFirst: false, padValue: -1 }).padded.toArray()).toEqual([
      [5, 3],
      [2, -1],
    ])
  })

  it('pads feature sequences [length, features] and refuses mismatched features', () => {
    const a = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: 'float64' },
    )
    const b = tensor([[5, 6]], { dtype: 'float64' })
    expect(padSequences([a, b]).padded.shape).toEqual([2, 2, 2])
    expect(() => padSequences([a, tensor([[1, 2, 3]], { dtype: 'float64' })])).toThrow('padSequences: sequence 1 has shape [1,3] but sequence 0 has [2,2]')
  })
})
