import { describe, expect, it } from 'vitest'
import { DTypeError, ShapeError, intTensor, tensor } from '../src/index.ts'

describe('intTensor', () => {
  it("is tensor(data, { dtype: 'int32', shape }): nested arrays, flat arrays with a shape, typed arrays", () => {
    const ids = intTensor([
      [1, 2, 3],
      [4, 5, 6],
    ])
    expect(ids.dtype).toBe('int32')
    expect(ids.shape).toEqual([2, 3])
    expect(ids.data).toBeInstanceOf(Int32Array)
    expect(ids.toArray()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ])
    expect(intTensor([1, 2, 3, 4, 5, 6], [3, 2]).toArray()).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ])
    expect(intTensor(Float64Array.from([7, -8]), [2, 1]).toArray()).toEqual([[7], [-8]])
    expect(intTensor(7).item()).toBe(7)
    expect(intTensor(7).shape).toEqual([])
    const same = tensor(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      { dtype: 'int32' },
    )
    expect(Array.from(ids.data)).toEqual(Array.from(same.data))
    expect(String(ids)).toBe(String(same))
  })

  it('truncates toward zero as the int32 dtype does, and refuses what int32 cannot hold', () => {
    expect(intTensor([1.9, -1.9]).toArray()).toEqual([1, -1])
    expect(() => intTensor([2 ** 31])).toThrow(DTypeError)
    expect(() => intTensor([2 ** 31])).toThrow(/2147483648 does not fit int32/)
    expect(() => intTensor(Float32Array.from([Number.NaN]))).toThrow(/NaN does not fit int32/)
  })

  it('refuses a shape that does not fit the data, naming both', () => {
    expect(() => intTensor([1, 2, 3], [2, 2])).toThrow(ShapeError)
    expect(() => intTensor(Int32Array.from([1, 2, 3]), [2, 2])).toThrow(/shape \[2,2\] needs 4 elements but the data has 3/)
  })
})
