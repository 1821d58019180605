import { describe, expect, it } from 'vitest'
import { Tensor, tensor } from '../src/index.ts'
import type { MethodsOf, TensorMethods } from '../src/methods.ts'

describe('Tensor methods come from one table', () => {
  it('every declared method is installed on the prototype', () => {
    // The keys of TensorMethods are the table's keys; spelled out here so a runtime check sees them.
    expect(tensor([1]).shape).toEqual([1]) // methods are installed when the first tensor is made
    const some: (keyof TensorMethods)[] = ['add', 'tanh', 'var', 'split', 'matmul', 'astype', 'pad']
    for (const name of some) expect(typeof (Tensor.prototype as unknown as Record<string, unknown>)[name]).toBe('function')
    expect(tensor([1, 2]).add(1).mul(2).toArray()).toEqual([4, 6])
  })

  it('a method has its op signature minus the tensor (compile-time checks)', () => {
    type Table = { twice: (self: Tensor, k: number) => Tensor }
    const ok: MethodsOf<Table> = { twice: (k: number) => tensor([k]) }
    // @ts-expect-error a method installed with another signature than its op's does not compile
    const wrong: MethodsOf<Table> = { twice: (k: string) => tensor([Number(k)]) }
    // @ts-expect-error a method the table does not install is not declared
    const missing: MethodsOf<Table> = {}
    expect([ok, wrong, missing].length).toBe(3)
    // @ts-expect-error no such method on Tensor
    expect(() => tensor([1]).notAnOp()).toThrow(TypeError)
  })
})
