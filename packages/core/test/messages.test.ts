// The shared pieces of error messages (src/messages.ts): the name suggester behind every
// "did you mean ...?" and the option-key check the layer constructors use.
import { describe, expect, it } from 'vitest'
import { checkOptionKeys, describeValue, nearestName } from '../src/internal.ts'
import { ArgumentError } from '../src/errors.ts'

describe('nearestName', () => {
  const known = ['inFeatures', 'outFeatures', 'bias', 'dtype', 'weightInit', 'biasInit']

  it("suggests PyTorch's snake_case option as its camelCase spelling", () => {
    expect(nearestName('in_features', known)).toBe('inFeatures')
    expect(nearestName('T_max', ['lr', 'tMax', 'etaMin'])).toBe('tMax')
    expect(nearestName('weight_init', known)).toBe('weightInit')
  })

  it('ignores case, _ and -, then allows a few edits (a transposition counts as one)', () => {
    expect(nearestName('InFeatures', known)).toBe('inFeatures')
    expect(nearestName('infeatures', known)).toBe('inFeatures')
    expect(nearestName('weigth', ['weight', 'bias'])).toBe('weight')
    expect(nearestName('bais', ['weight', 'bias'])).toBe('bias')
    expect(nearestName('outFeature', known)).toBe('outFeatures')
    expect(nearestName('in_feature', known)).toBe('inFeatures')
  })

  it('suggests nothing when nothing is close, and never the name itself', () => {
    expect(nearestName('foo', known)).toBeNull()
    expect(nearestName('inplace', ['p'])).toBeNull()
    expect(nearestName('weight', ['weight'])).toBeNull()
    expect(nearestName('', known)).toBeNull()
    expect(nearestName('x', [])).toBeNull()
    // Short names allow one edit only: 'lr' is not 'p', 'eps' is not 'lr'.
    expect(nearestName('eps', ['lr'])).toBeNull()
  })

  it('prefers the closest, then the earlier candidate', () => {
    expect(nearestName('weight_hh_l1', ['weight_ih_l0', 'weight_hh_l0', 'weight_hh_l1x'])).toBe('weight_hh_l0')
    expect(nearestName('abcd', ['abce', 'abcf'])).toBe('abce')
  })

  it('stays fast on long names and many candidates', () => {
    const many = Array.from({ length: 2000 }, (_, i) => `layers.${i}.self_attn.q_proj.weight`)
    const t0 = performance.now()
    expect(nearestName('layers.1999.self_attn.q_prj.weight', many)).toBe('layers.1999.self_attn.q_proj.weight')
    expect(nearestName('x'.repeat(100_000), ['x'.repeat(99_999)])).toBeNull()
    expect(performance.now() - t0).toBeLessThan(2000)
  })
})

describe('checkOptionKeys', () => {
  const known = ['inFeatures', 'outFeatures', 'bias']

  it('passes known keys and refuses the first unknown one with a hint', () => {
    expect(() => checkOptionKeys({ inFeatures: 1, bias: true }, known, 'linear')).not.toThrow()
    expect(() => checkOptionKeys({ in_features: 1 }, known, 'linear')).toThrow(ArgumentError)
    expect(() => checkOptionKeys({ in_features: 1 }, known, 'linear')).toThrow("linear: unknown option 'in_features' (did you mean 'inFeatures'?)")
    expect(() => checkOptionKeys({ foo: 1 }, known, 'linear')).toThrow("linear: unknown option 'foo' (known options: inFeatures, outFeatures, bias)")
  })

  it('refuses options that are not an object', () => {
    for (const bad of [undefined, null, 3, 'x', [1]]) {
      expect(() => checkOptionKeys(bad, known, 'linear')).toThrow(
        `linear: options must be an object (known options: inFeatures, outFeatures, bias), found ${describeValue(bad)}`,
      )
    }
  })
})

describe('describeValue', () => {
  it('names the kind of a value briefly', () => {
    expect([null, undefined, [1], {}, new Float32Array(1), 'x'.repeat(50), 3, true].map(describeValue)).toEqual([
      'null',
      'nothing',
      'an array',
      'an object',
      'a Float32Array',
      `the string "${'x'.repeat(40)}..."`,
      'number 3',
      'boolean true',
    ])
  })
})
