// Every class of bad input gets an error that names the op and what was wrong.
import { describe, expect, it } from 'vitest'
import {
  ArgumentError,
  DTypeError,
  GraphgradError,
  ShapeError,
  add,
  broadcastTo,
  flatten,
  mean,
  permute,
  reshape,
  squeeze,
  sum,
  tensor,
  transpose,
  unsqueeze,
  zeros,
  argmax,
  max,
  softmax,
  logSoftmax,
  randn,
  uniform,
} from '@graphgrad/core'

const x23 = zeros([2, 3])

describe('shape mismatches', () => {
  it('broadcasting names the op, both shapes and the dimension', () => {
    expect(() => add(x23, zeros([4]))).toThrow(ShapeError)
    expect(() => add(x23, zeros([4]))).toThrow('add: cannot broadcast [2,3] with [4]: dimension -1 is 3 vs 4')
  })
  it('reshape names both shapes and element counts', () => {
    expect(() => reshape(x23, [4, 2])).toThrow('reshape: cannot reshape [2,3] (6 elements) to [4,2] (8 elements)')
    expect(() => reshape(x23, [-1, 4])).toThrow('reshape: cannot reshape [2,3] (6 elements) to [-1,4]')
  })
  it('broadcastTo, squeeze', () => {
    expect(() => broadcastTo(x23, [3, 3])).toThrow('broadcastTo: cannot broadcast [2,3] to [3,3]')
    expect(() => squeeze(x23, 0)).toThrow('squeeze: dimension 0 of [2,3] has size 2, not 1')
  })
})

describe('bad arguments', () => {
  it('axis out of range', () => {
    expect(() => sum(x23, 2)).toThrow(ArgumentError)
    expect(() => sum(x23, 2)).toThrow('sum: axis 2 is out of range for a tensor of rank 2')
    expect(() => mean(x23, -3)).toThrow('mean: axis -3 is out of range for a tensor of rank 2')
    expect(() => transpose(x23, 0, 5)).toThrow('transpose: axis 5 is out of range')
    expect(() => unsqueeze(x23, 4)).toThrow('unsqueeze: axis 4 is out of range for a tensor of rank 3')
    expect(() => flatten(x23, 1, 0)).toThrow('flatten: startDim 1 comes after endDim 0')
    expect(() => argmax(x23, 3)).toThrow('argmax: axis 3 is out of range')
  })
  it('repeated axes and bad permutations', () => {
    expect(() => sum(x23, [0, 0])).toThrow('sum: axis [0,0] repeats an axis')
    expect(() => permute(x23, [0])).toThrow('permute: 1 dims given for a tensor of rank 2 ([2,3])')
    expect(() => permute(x23, [1, 1])).toThrow('permute: dims [1,1] repeat a dimension')
  })
  it('empty reductions without identity', () => {
    expect(() => max(zeros([0, 2]), 0)).toThrow('max: cannot reduce an empty dimension of [0,2]')
  })
  it('composites name themselves, not the ops they are built from', () => {
    expect(() => softmax(x23, 2)).toThrow('softmax: axis 2 is out of range for a tensor of rank 2')
    expect(() => logSoftmax(x23, -3)).toThrow('logSoftmax: axis -3 is out of range')
  })
  it('random draws need an explicit seed', () => {
    expect(() => randn([2], undefined as never)).toThrow(
      'randn: expected a seed (an integer) or a key, got undefined; every random draw needs an explicit seed',
    )
    expect(() => uniform([2], 0, 1, 1.5)).toThrow('uniform: the seed must be a safe integer, got 1.5')
  })
  it('non-numeric data', () => {
    expect(() => tensor([1, 'a'] as never)).toThrow(DTypeError)
    expect(() => tensor([1, 'a'] as never)).toThrow('tensor: expected numbers, found string "a" at flat position 1')
  })
  it('non-tensor arguments', () => {
    expect(() => sum(3 as never)).toThrow('sum: input must be a Tensor, got number')
  })
})

describe('dtype errors', () => {
  it('mean of int32 tells the user to cast', () => {
    expect(() => mean(tensor([1, 2], { dtype: 'int32' }))).toThrow(DTypeError)
    expect(() => mean(tensor([1, 2], { dtype: 'int32' }))).toThrow('mean: expected a float tensor, got int32 (cast with astype first)')
  })
})

describe('error classes', () => {
  it('are catchable by class and share a base', () => {
    try {
      add(x23, zeros([4]))
    } catch (e) {
      expect(e).toBeInstanceOf(ShapeError)
      expect(e).toBeInstanceOf(GraphgradError)
      expect((e as Error).name).toBe('ShapeError')
    }
  })
})
