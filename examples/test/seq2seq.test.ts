// pnpm seq2seq's parts: the date generator (deterministic, disjoint split, the right ISO
// target), the vocabularies, the batches, the parameter budgets, and the decoders (end
// tokens, the maximum length, beam search = greedy at width 1 and never worse in the model's
// score), on scripted models whose probabilities are known and on the real models.
import { describe, expect, it } from 'vitest'
import { randint } from '@graphgrad/core'
import { type Params, parameterCount } from '@graphgrad/layers'
import { DATE_COUNT, FORMAT_NAMES, allDates, daysInMonth, example, isoDate, makeSplit, ordinalDigits, ordinalWords, yearWords } from '../src/seq2seq/dates.ts'
import { type Hypothesis, beamSearch, better, greedyDecode } from '../src/seq2seq/decode.ts'
import { lstmAttentionModel } from '../src/seq2seq/lstm-model.ts'
import { type Seq2SeqModel, makeBatch } from '../src/seq2seq/model.ts'
import { lstmConfig, lstmParameterCount, transformerForBudget, transformerParameterCount } from '../src/seq2seq/sizes.ts'
import { transformerModel } from '../src/seq2seq/transformer-model.ts'
import { BOS, EOS, PAD, SOURCE_VOCABULARY, TARGET_VOCABULARY, decodeTarget, encodeSource, encodeTarget, tokenize } from '../src/seq2seq/vocab.ts'

describe('the date generator', () => {
  it('writes the 3rd of December 2026 in every surface form', () => {
    const d = { year: 2026, month: 12, day: 3 }
    const forms = Object.fromEntries(FORMAT_NAMES.map((f) => [f, example(d, f).source]))
    expect(forms).toEqual({
      ordinalOf: 'third of december 2026',
      monthDay: 'december 3rd, 2026',
      dayAbbreviation: '3 dec 2026',
      abbreviationDay: 'dec 3, 2026',
      dotted: '3.12.2026',
      theOfWords: 'the 3rd of december, two thousand twenty-six',
      monthTheWords: 'december the third, two thousand twenty-six',
    })
    expect(example(d, 'theOfWords', 1).source).toBe('the 3rd of december, twenty twenty-six')
    expect(example(d, 'ordinalOf').target).toBe('2026-12-03')
  })

  it('spells numbers, ordinals and years', () => {
    expect([1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 31].map(ordinalDigits)).toEqual([
      '1st',
      '2nd',
      '3rd',
      '4th',
      '11th',
      '12th',
      '13th',
      '21st',
      '22nd',
      '23rd',
      '31st',
    ])
    expect([1, 12, 20, 21, 30, 31].map(ordinalWords)).toEqual(['first', 'twelfth', 'twentieth', 'twenty-first', 'thirtieth', 'thirty-first'])
    expect([1900, 1905, 1999, 2000, 2005, 2026].map((y) => yearWords(y))).toEqual([
      'nineteen hundred',
      'nineteen oh five',
      'nineteen ninety-nine',
      'two thousand',
      'two thousand five',
      'two thousand twenty-six',
    ])
    expect([1905, 2000, 2005, 2026].map((y) => yearWords(y, 1))).toEqual(['nineteen oh five', 'two thousand', 'two thousand and five', 'twenty twenty-six'])
  })

  it('has every real date from 1900 to 2099 once, leap days included', () => {
    const dates = allDates()
    expect(dates.length).toBe(DATE_COUNT)
    expect(new Set(dates.map(isoDate)).size).toBe(dates.length)
    const leapDays = dates.filter((d) => d.month === 2 && d.day === 29).map((d) => d.year)
    expect(leapDays).toHaveLength(49) // 1904 .. 2096 every four years, and 2000, but not 1900
    expect(leapDays).toContain(2000)
    expect(leapDays).not.toContain(1900)
    expect(daysInMonth(2023, 2)).toBe(28)
  })

  it("gives the ISO date of the example's date, checked against the JavaScript calendar", () => {
    const { train, heldOut } = makeSplit(3, { train: 2000, heldOut: 500 })
    for (const e of [...train, ...heldOut]) {
      const js = new Date(Date.UTC(e.date.year, e.date.month - 1, e.date.day))
      expect(js.getUTCDate(), `${e.source}: a real date`).toBe(e.date.day)
      expect(e.target).toBe(js.toISOString().slice(0, 10))
      expect(
        [0, 1].some((style) => example(e.date, e.format, style as 0 | 1).source === e.source),
        e.source,
      ).toBe(true)
    }
  })

  it('is deterministic in its seed, and another seed draws other examples', () => {
    const a = makeSplit(11, { train: 300, heldOut: 100 })
    expect(makeSplit(11, { train: 300, heldOut: 100 })).toEqual(a)
    const b = makeSplit(12, { train: 300, heldOut: 100 })
    expect(b.train.map((e) => e.source)).not.toEqual(a.train.map((e) => e.source))
    // The held-out examples do not depend on how many training examples are drawn.
    expect(makeSplit(11, { train: 50, heldOut: 100 }).heldOut).toEqual(a.heldOut)
  })

  it('holds out dates that no training example has, each date once', () => {
    const { train, heldOut } = makeSplit(5, { train: 20000, heldOut: 2000 })
    const trainDates = new Set(train.map((e) => e.target))
    expect(trainDates.size).toBe(train.length)
    expect(new Set(heldOut.map((e) => e.target)).size).toBe(heldOut.length)
    expect(heldOut.filter((e) => trainDates.has(e.target))).toEqual([])
    // Every surface form appears in both parts.
    for (const f of FORMAT_NAMES) {
      expect(train.some((e) => e.format === f)).toBe(true)
      expect(heldOut.some((e) => e.format === f)).toBe(true)
    }
    expect(() => makeSplit(5, { train: DATE_COUNT, heldOut: 1 })).toThrow(/only 73049 dates/)
  })
})

describe('tokens', () => {
  it('read words, single digits and punctuation, and cover every date in every form', () => {
    expect(tokenize('the 3rd of december, two thousand twenty-six')).toEqual(['the', '3', 'rd', 'of', 'december', ',', 'two', 'thousand', 'twenty', '-', 'six'])
    allDates().forEach((d, i) => {
      const ids = encodeSource(example(d, FORMAT_NAMES[i % FORMAT_NAMES.length], ((i >> 3) % 2) as 0 | 1).source)
      if (ids.some((id) => !(id > PAD && id < SOURCE_VOCABULARY.tokens.length))) throw new Error(`bad ids for ${isoDate(d)}`)
    })
    expect(() => encodeSource('3 brumaire 2026')).toThrow(/'brumaire'/)
  })

  it('encode an ISO date character by character with the end token, and decode it back', () => {
    const ids = encodeTarget('2026-12-03')
    expect(ids).toHaveLength(11)
    expect(ids[10]).toBe(EOS)
    expect(decodeTarget(ids)).toBe('2026-12-03')
    expect(decodeTarget([...ids.slice(0, 4), EOS, ...ids.slice(4)])).toBe('2026') // stops at the first end token
    expect(TARGET_VOCABULARY.tokens.slice(0, 3)).toEqual(['<pad>', '<s>', '</s>'])
  })

  it('pad into batches: the decoder reads the start token and the target shifted right', () => {
    const sources = [encodeSource('3 dec 2026'), encodeSource('third of december 2026')]
    const targets = [encodeTarget('2026-12-03'), encodeTarget('2026-12-03')]
    const batch = makeBatch(sources, targets)
    expect(batch.lengths).toEqual([6, 7])
    expect(batch.source.shape).toEqual([2, 7])
    expect((batch.source.toArray() as number[][])[0][6]).toBe(PAD)
    const tin = batch.targetIn.toArray() as number[][]
    expect(tin[0]).toEqual([BOS, ...targets[0].slice(0, -1)])
    expect(batch.targetOut.toArray()).toEqual(targets)
  })
})

describe('parameter budgets', () => {
  const vocabularies = { source: SOURCE_VOCABULARY.tokens.length, target: TARGET_VOCABULARY.tokens.length }
  it('count the parameters init makes', () => {
    for (const hidden of [2, 8, 64]) {
      const c = lstmConfig(vocabularies, hidden)
      expect(lstmParameterCount(c)).toBe(parameterCount(lstmAttentionModel(c).init(0)))
    }
    for (const [dModel, layers] of [
      [8, 1],
      [12, 2],
    ]) {
      const c = { sourceVocabulary: 30, targetVocabulary: 14, dModel, heads: 4, feedforward: 2 * dModel, layers, dropout: 0 }
      expect(transformerParameterCount(c)).toBe(parameterCount(transformerModel(c).init(0)))
    }
  })
  it("size the transformer to the LSTM's budget", () => {
    const budget = lstmParameterCount(lstmConfig(vocabularies, 64))
    const t = transformerForBudget(vocabularies, budget)
    const gap = (d: number): number => Math.abs(transformerParameterCount({ ...t, dModel: d, feedforward: 2 * d }) - budget)
    expect(gap(t.dModel)).toBeLessThanOrEqual(gap(t.dModel - 4))
    expect(gap(t.dModel)).toBeLessThanOrEqual(gap(t.dModel + 4))
    expect(gap(t.dModel) / budget).toBeLessThan(0.1)
  })
})

/**
 * A model whose next-token probabilities are scripted by prefix (the output so far): `script`
 * maps a prefix, ids joined by commas, to probabilities of some tokens; the rest share what is
 * left evenly. It has no input: the memory is the number of rows.
 */
function scripted(script: Record<string, Record<number, number>>, V = 8): Seq2SeqModel<number, readonly (readonly number[])[]> {
  const probabilities = (prefix: readonly number[]): number[] => {
    const given = script[prefix.join(',')] ?? {}
    const rest = (1 - Object.values(given).reduce((a, b) => a + b, 0)) / (V - Object.keys(given).length)
    return Array.from({ length: V }, (_, v) => given[v] ?? rest)
  }
  return {
    name: 'scripted',
    describe: 'scripted probabilities',
    init: () => {
      throw new Error('no parameters')
    },
    loss: () => {
      throw new Error('no loss')
    },
    encode: (_p, _source, lengths) => lengths.length,
    selectMemory: (_m, rows) => rows.length,
    start: (_p, rows) => Array.from({ length: rows }, () => []),
    step(_p, _m, state, tokens) {
      const next = state.map((prefix, r) => (tokens[r] === BOS ? prefix : [...prefix, tokens[r]]))
      const logProbs = Float64Array.from(next.flatMap((prefix) => probabilities(prefix).map(Math.log)))
      return { logProbs, state: next }
    },
    selectState: (state, rows) => Array.from(rows, (r) => state[r]),
  }
}

const none = {} as Params
const input = (rows: number): { source: ReturnType<typeof randint>; lengths: number[] } => ({
  source: randint(3, 4, [rows, 1], 0),
  lengths: Array.from({ length: rows }, () => 1),
})

describe('decoding', () => {
  it('greedy decoding stops at the end token, and scores the end token too', () => {
    const model = scripted({ '': { 4: 0.7 }, '4': { 5: 0.6 }, '4,5': { [EOS]: 0.9 } })
    const { source, lengths } = input(2)
    const [h] = greedyDecode(model, none, source, lengths, { maxLength: 10 })
    expect(h.tokens).toEqual([4, 5])
    expect(h.finished).toBe(true)
    expect(h.score).toBeCloseTo(Math.log(0.7) + Math.log(0.6) + Math.log(0.9), 12)
    expect(h.attention).toEqual([]) // the scripted model exposes none
  })

  it('cuts hypotheses that never end at the maximum length', () => {
    const model = scripted({}, 8)
    const unlikelyEnd = scripted(Object.fromEntries(['', '4', '4,4', '4,4,4'].map((prefix) => [prefix, { 4: 0.5, [EOS]: 0.001 }])))
    const { source, lengths } = input(3)
    for (const h of greedyDecode(unlikelyEnd, none, source, lengths, { maxLength: 4 })) expect(h).toMatchObject({ tokens: [4, 4, 4, 4], finished: false })
    const { hypotheses } = beamSearch(unlikelyEnd, none, source, lengths, { maxLength: 4, width: 3 })
    for (const h of hypotheses) expect(h).toEqual({ tokens: [4, 4, 4, 4], score: 4 * Math.log(0.5), finished: false })
    // Uniform: greedy never ends (the lowest id wins ties, and the end token is 2); the beam keeps
    // the end token among its first three and prefers that finished hypothesis to any cut one.
    expect(greedyDecode(model, none, source, lengths, { maxLength: 3 })[0]).toMatchObject({ tokens: [0, 0, 0], finished: false })
    expect(beamSearch(model, none, source, lengths, { maxLength: 3, width: 3 }).hypotheses[0]).toEqual({ tokens: [], score: Math.log(1 / 8), finished: true })
    const done: Hypothesis = { tokens: [1], score: -50, finished: true }
    expect(better(done, { tokens: [1, 2], score: -1, finished: false })).toBe(true)
  })

  it('beam search finds a likelier output than greedy when the first step misleads', () => {
    // Greedy takes 4 (0.6), then nothing is likely: 0.6 * 0.3 * ... ; 5 (0.4) then the end (0.9) is better.
    const model = scripted({ '': { 4: 0.6, 5: 0.4 }, '4': { [EOS]: 0.3, 6: 0.3, 7: 0.3 }, '5': { [EOS]: 0.9 } })
    const { source, lengths } = input(1)
    const [g] = greedyDecode(model, none, source, lengths, { maxLength: 5 })
    expect(g.tokens).toEqual([4])
    const {
      hypotheses: [b],
      greedyKept,
    } = beamSearch(model, none, source, lengths, { maxLength: 5, width: 2 })
    expect(b).toEqual({ tokens: [5], score: Math.log(0.4) + Math.log(0.9), finished: true })
    expect(b.score).toBeGreaterThan(g.score)
    expect(greedyKept).toBe(0)
  })

  it('keeps the greedy answer where the beam lost it', () => {
    // Greedy: 4 (0.36), end (0.4) = 0.144. The beam of 2 keeps 4 and 3 (the lower id of the tie), then 3,6 and 3,7
    // (0.16 each) over the greedy answer, and nothing after them comes near 0.144.
    const model = scripted({ '': { 4: 0.36, 3: 0.32, 5: 0.32 }, '4': { [EOS]: 0.4 }, '3': { 6: 0.5, 7: 0.5 }, '3,6': { [EOS]: 0.1 }, '3,7': { [EOS]: 0.1 } })
    const { source, lengths } = input(1)
    const [g] = greedyDecode(model, none, source, lengths, { maxLength: 6 })
    expect(g).toMatchObject({ tokens: [4], finished: true })
    const {
      hypotheses: [b],
      greedyKept,
    } = beamSearch(model, none, source, lengths, { maxLength: 6, width: 2 })
    expect(greedyKept).toBe(1)
    expect(b).toEqual({ tokens: g.tokens, score: g.score, finished: true })
  })

  const vocabularies = { source: SOURCE_VOCABULARY.tokens.length, target: TARGET_VOCABULARY.tokens.length }
  const models: [string, Seq2SeqModel][] = [
    ['lstm', lstmAttentionModel(lstmConfig(vocabularies, 8)) as Seq2SeqModel],
    [
      'transformer',
      transformerModel({
        sourceVocabulary: vocabularies.source,
        targetVocabulary: vocabularies.target,
        dModel: 8,
        heads: 4,
        feedforward: 16,
        layers: 1,
        dropout: 0,
      }) as Seq2SeqModel,
    ],
  ]
  for (const [name, model] of models) {
    it(`${name}: beam search of width 1 is greedy decoding, and wider beams never score worse`, () => {
      const params = model.init(4)
      const rows = 12
      const lengths = Array.from({ length: rows }, (_, i) => 1 + (i % 6))
      const source = randint(1, vocabularies.source, [rows, 6], 5)
      const greedy = greedyDecode(model, params, source, lengths, { maxLength: 8 })
      const one = beamSearch(model, params, source, lengths, { maxLength: 8, width: 1 }).hypotheses
      expect(one).toEqual(greedy.map(({ tokens, score, finished }) => ({ tokens, score, finished })))
      for (const width of [2, 3, 5]) {
        const wide = beamSearch(model, params, source, lengths, { maxLength: 8, width }).hypotheses
        wide.forEach((h, i) => expect(better(greedy[i], h), `width ${width}, row ${i}`).toBe(false))
      }
      // The attention of each greedy step is a distribution over the valid input positions.
      if (name === 'lstm') {
        for (const [i, h] of greedy.entries())
          for (const w of h.attention) {
            expect(w.slice(0, lengths[i]).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5)
            expect(w.slice(lengths[i]).every((x) => x === 0)).toBe(true)
          }
      }
    })
  }
})
