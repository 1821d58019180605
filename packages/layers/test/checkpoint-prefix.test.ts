import { describe, expect, it } from 'vitest'
import type { OrderedMap } from 'immutable'
import type { Tensor } from '@graphgrad/core'
import { StateDictError, loadStateDict, stateDict } from '../src/checkpoint.ts'
import { linear } from '../src/linear.ts'
import { model } from '../src/model.ts'
import { lstm } from '../src/recurrent.ts'

const encoder = lstm({ inputSize: 3, hiddenSize: 4 })
const net = model({ encoder, head: linear({ inFeatures: 4, outFeatures: 2 }) })
/** The trained weights (seed 1) and a template to load them into (seed 2): every value differs. */
const trained = net.init(1)
const template = net.init(2)

/** The names and values of `flat`, with `prefix` before each name. */
const renamed = (flat: OrderedMap<string, Tensor>, prefix: string): OrderedMap<string, Tensor> => flat.mapKeys((k) => `${prefix}${k}`)

/** True when each named tensor of `a` has exactly the values of the same name in `b`. */
function same(a: OrderedMap<string, Tensor>, b: OrderedMap<string, Tensor>, names: readonly string[]): boolean {
  return names.every((n) => Array.from(a.get(n)!.data).join() === Array.from(b.get(n)!.data).join())
}

function errorOf(f: () => unknown): StateDictError {
  try {
    f()
  } catch (e) {
    if (e instanceof StateDictError) return e
    throw e
  }
  throw new Error('expected a StateDictError')
}

describe('loadStateDict prefix (names in the checkpoint carry a prefix)', () => {
  const names = [...stateDict(trained).keys()]

  it("strips nn.DataParallel's 'module.' ('module' alone means the same)", () => {
    const saved = renamed(stateDict(trained), 'module.')
    for (const prefix of ['module.', 'module']) {
      const loaded = stateDict(loadStateDict(template, saved, { prefix }))
      expect([...loaded.keys()]).toEqual(names)
      expect(same(loaded, stateDict(trained), names)).toBe(true)
    }
  })

  it("loads one part of a bigger model's checkpoint, ignoring the rest even when strict", () => {
    const part = loadStateDict(encoder.init(5), stateDict(trained), { prefix: 'encoder.' })
    expect([...part.keys()]).toEqual([...encoder.init(0).keys()])
    expect(same(stateDict(part), stateDict(trained.get('encoder')), [...part.keys()])).toBe(true)
  })

  it('reports what is missing under the prefix with the name it looked up, and honours strict: false', () => {
    const partial = stateDict(trained).delete('encoder.bias_hh_l0')
    const err = errorOf(() => loadStateDict(encoder.init(0), partial, { prefix: 'encoder.' }))
    expect(err.missing).toEqual(['bias_hh_l0'])
    expect(err.unexpected).toEqual([])
    expect(err.message).toMatch(/missing key\(s\): 'bias_hh_l0' \(expected shape \[16\], looked up as 'encoder.bias_hh_l0'\)/)
    const loose = loadStateDict(encoder.init(0), partial, { prefix: 'encoder.', strict: false })
    expect(Array.from((loose.get('bias_hh_l0') as Tensor).data)).toEqual(Array.from((encoder.init(0).get('bias_hh_l0') as Tensor).data))
    expect(Array.from((loose.get('weight_ih_l0') as Tensor).data)).toEqual(Array.from(stateDict(trained).get('encoder.weight_ih_l0')!.data))
  })

  it('refuses a prefix no name has, listing the names there are', () => {
    const err = errorOf(() => loadStateDict(template, stateDict(trained), { prefix: 'model.' }))
    expect(err.message).toMatch(
      /no name in the checkpoint starts with the prefix 'model.' \(its names: 'encoder.weight_ih_l0', 'encoder.weight_hh_l0', 'encoder.bias_ih_l0', 'encoder.bias_hh_l0', \.\.\. \(6 in all\)\)/,
    )
    // Also when not strict: loading nothing is not what anyone asked for.
    expect(() => loadStateDict(template, stateDict(trained), { prefix: 'model.', strict: false })).toThrow(
      /no name in the checkpoint starts with the prefix 'model.'/,
    )
  })
})

describe('loadStateDict addPrefix (names in the model carry a prefix)', () => {
  const encoderNames = [...stateDict(trained).keys()].filter((n) => n.startsWith('encoder.'))
  const encoderAlone = stateDict(trained)
    .filter((_, k) => k.startsWith('encoder.'))
    .mapKeys((k) => k.slice('encoder.'.length))

  it("loads a checkpoint of one part into that part; the rest keeps the template's values", () => {
    const loaded = stateDict(loadStateDict(template, encoderAlone, { addPrefix: 'encoder.' }))
    expect([...loaded.keys()]).toEqual([...stateDict(template).keys()])
    expect(same(loaded, stateDict(trained), encoderNames)).toBe(true)
    expect(same(loaded, stateDict(template), ['head.weight', 'head.bias'])).toBe(true)
    expect(same(loaded, stateDict(loadStateDict(template, encoderAlone, { addPrefix: 'encoder' })), [...loaded.keys()])).toBe(true)
  })

  it('is strict within that part: a missing or an unexpected name is named as the checkpoint calls it', () => {
    const bad = encoderAlone.delete('weight_hh_l0').set('weight_hh_l1', encoderAlone.get('weight_ih_l0')!)
    const err = errorOf(() => loadStateDict(template, bad, { addPrefix: 'encoder.' }))
    expect(err.missing).toEqual(['encoder.weight_hh_l0'])
    expect(err.unexpected).toEqual(['weight_hh_l1'])
    expect(err.message).toMatch(/'encoder.weight_hh_l0' \(expected shape \[16,4\], looked up as 'weight_hh_l0'; the checkpoint has 'weight_hh_l1'\)/)
    expect(err.message).toMatch(/unexpected key\(s\): 'weight_hh_l1' \(shape \[16,3\]\)/)
  })

  it('combines with prefix: module.x loads into encoder.x', () => {
    const loaded = stateDict(loadStateDict(template, renamed(encoderAlone, 'module.'), { prefix: 'module.', addPrefix: 'encoder.' }))
    expect(same(loaded, stateDict(trained), encoderNames)).toBe(true)
  })

  it('refuses an addPrefix no parameter of the model has', () => {
    expect(() => loadStateDict(template, encoderAlone, { addPrefix: 'decoder.' })).toThrow(
      /no parameter of the model starts with addPrefix 'decoder.' \(its names: 'encoder.weight_ih_l0'/,
    )
  })

  it('refuses a prefix that is not a dotted name prefix', () => {
    expect(() => loadStateDict(template, encoderAlone, { addPrefix: '.encoder' })).toThrow(
      /addPrefix must be a dotted name prefix such as 'model.', found '.encoder'/,
    )
    expect(() => loadStateDict(template, encoderAlone, { prefix: 3 as never })).toThrow(
      /loadStateDict: prefix must be a dotted name prefix such as 'model.', found number 3/,
    )
  })
})

describe('loadStateDict hints at the prefix that would load a checkpoint', () => {
  it("suggests { prefix: 'module.' } for a DataParallel checkpoint", () => {
    const err = errorOf(() => loadStateDict(template, renamed(stateDict(trained), 'module.')))
    expect(err.missing).toHaveLength(6)
    expect(err.message).toMatch(/every unexpected name is a missing one behind 'module.': pass \{ prefix: 'module.' \} to strip it/)
  })

  it("suggests { addPrefix: 'encoder.' } for a checkpoint of the encoder alone", () => {
    const encoderAlone = stateDict(encoder.init(1))
    const err = errorOf(() => loadStateDict(template, encoderAlone))
    expect(err.message).toMatch(/every unexpected name is a missing one without 'encoder.': pass \{ addPrefix: 'encoder.' \}/)
    // The suggestion works.
    expect(() => loadStateDict(template, encoderAlone, { addPrefix: 'encoder.' })).not.toThrow()
  })

  it('suggests nothing when the names differ otherwise', () => {
    const err = errorOf(() =>
      loadStateDict(
        template,
        stateDict(trained).mapKeys((k) => k.replace('head', 'fc')),
      ),
    )
    expect(err.message).not.toMatch(/pass \{/)
  })
})
