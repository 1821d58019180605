// `pnpm lm sample --top-k`, `pnpm lm export` and `pnpm lm sample --onnx`: the exported model,
// run by onnxruntime-node, writes exactly the text graphgrad writes from the checkpoint for the
// same prompt, seed, temperature and top-k; its logits and state match graphgrad's at other
// batch and sequence sizes than it was traced at; a bad file or a missing runtime is one clear error.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { randint, randn } from '@graphgrad/core'
import * as ort from 'onnxruntime-node'
import { loadCheckpoint } from '../src/lm/checkpoint.ts'
import { sha256 } from '../src/lm/corpus.ts'
import { loadOrt } from '../src/lm/onnx-sample.ts'
import { Sampler } from '../src/lm/sample.ts'
import { lm, tempDir, tinyWith, writeTinyCorpus } from './lm-helpers.ts'

let dir: string
let ck: string
let model: string

beforeAll(async () => {
  dir = tempDir()
  ck = join(dir, 'run')
  model = join(dir, 'lm.onnx')
  const train = await lm('train', '--text', writeTinyCorpus(dir), '--checkpoint', ck, '--steps', '40', ...tinyWith({ layers: '2', 'sample-every': '1000' }))
  expect(train.code).toBe(0)
  const exported = await lm('export', '--checkpoint', ck, '--out', model)
  expect(exported.stderr).toBe('')
  expect(exported.code).toBe(0)
  expect(exported.stdout).toContain(`to ${model}`)
})

/** The text `pnpm lm sample` prints with these options, from the checkpoint and from the ONNX file. */
async function bothTexts(options: string[]): Promise<[string, string]> {
  const fromCheckpoint = await lm('sample', '--checkpoint', ck, ...options)
  const fromOnnx = await lm('sample', '--onnx', model, ...options)
  expect(fromCheckpoint.stderr).toBe('')
  expect(fromOnnx.stderr).toBe('')
  return [fromCheckpoint.stdout, fromOnnx.stdout]
}

describe('pnpm lm sample --onnx', () => {
  it.each([
    ['temperature 0.8, seed 1', ['--temperature', '0.8', '--seed', '1']],
    ['temperature 1.5, top-k 4, seed 7', ['--temperature', '1.5', '--top-k', '4', '--seed', '7']],
    ['temperature 0 (the likeliest character)', ['--temperature', '0']],
    ['a prompt, temperature 1, top-k 2, seed 3', ['--prompt', 'the dog ', '--temperature', '1', '--top-k', '2', '--seed', '3']],
  ])('gives the text graphgrad gives: %s', async (_, options) => {
    const [a, b] = await bothTexts([...options, '--length', '300'])
    expect(a.length).toBeGreaterThan(300)
    expect(b).toBe(a)
  })

  it('another seed gives another text', async () => {
    const [a] = await bothTexts(['--temperature', '1', '--seed', '1', '--length', '100'])
    const [b] = await bothTexts(['--temperature', '1', '--seed', '2', '--length', '100'])
    expect(b).not.toBe(a)
  })

  it('runs at batch 3, sequence 11 (traced at 2 and 3): logits and state as graphgrad computes them', async () => {
    const saved = await loadCheckpoint(ck)
    const { layers, hidden, vocabSize } = saved.model
    const tokens = randint(0, vocabSize, [3, 11], 5)
    const h0 = randn([layers, 3, hidden], 6)
    const c0 = randn([layers, 3, hidden], 7)
    const want = saved.charModel.apply(saved.state.params, tokens, { h: h0, c: c0 })
    const session = await ort.InferenceSession.create(new Uint8Array(readFileSync(model)), { logSeverityLevel: 3 })
    const f32 = (t: typeof h0): ort.Tensor => new ort.Tensor('float32', Float32Array.from(t.data), t.shape.slice())
    const got = await session.run({ tokens: new ort.Tensor('int64', BigInt64Array.from(tokens.data, BigInt), [3, 11]), h0: f32(h0), c0: f32(c0) })
    await session.release()
    for (const [name, t] of [
      ['logits', want.logits],
      ['hN', want.state.h],
      ['cN', want.state.c],
    ] as const) {
      expect(got[name].dims, name).toEqual(t.shape)
      const g = got[name].data as Float32Array
      let worst = 0
      for (let i = 0; i < t.size; i++) worst = Math.max(worst, Math.abs(g[i] - t.data[i]) / Math.max(1, Math.abs(t.data[i])))
      expect(worst, name).toBeLessThan(1e-5)
    }
  })

  it('refuses a model whose vocabulary file belongs to another export, and a file ONNX Runtime cannot load', async () => {
    const other = join(dir, 'other.onnx')
    writeFileSync(other, readFileSync(model).subarray(0, 1000))
    writeFileSync(join(dir, 'other.vocab.json'), readFileSync(join(dir, 'lm.vocab.json')))
    const r = await lm('sample', '--onnx', other)
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(
      `lm sample: ${other} is not the model ${join(dir, 'other.vocab.json')} was written for (its size or SHA-256 differs): export again with pnpm lm export\n`,
    )
    // A vocabulary file that does match: ONNX Runtime's own refusal, on one line.
    const garbage = new TextEncoder().encode('not an onnx model at all')
    writeFileSync(other, garbage)
    const sidecar = JSON.parse(readFileSync(join(dir, 'lm.vocab.json'), 'utf8'))
    writeFileSync(join(dir, 'other.vocab.json'), JSON.stringify({ ...sidecar, onnx: { file: 'other.onnx', bytes: garbage.length, sha256: sha256(garbage) } }))
    const bad = await lm('sample', '--onnx', other)
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(new RegExp(`^lm sample: ${other.replace(/[.\\/]/g, '\\$&')}: ONNX Runtime cannot load it \\(.+\\)\\n$`))
  })

  it('without onnxruntime-node, says how to install it', async () => {
    const missing = (): Promise<never> => Promise.reject(new Error("Cannot find package 'onnxruntime-node' imported from onnx-sample.ts"))
    await expect(loadOrt(missing)).rejects.toThrow(
      "--onnx needs onnxruntime-node, which cannot be loaded (Cannot find package 'onnxruntime-node' imported from onnx-sample.ts); install it with pnpm add onnxruntime-node@1.30.0",
    )
  })
})

describe('top-k sampling', () => {
  const scores = [0.5, 2, -1, 1.9, 0.1]
  const draws = (topK: number, temperature: number, n = 400): Set<number> => {
    const s = new Sampler([0], { length: 0, temperature, topK, seed: 11 })
    return new Set(Array.from({ length: n }, () => s.pick(scores)))
  }

  it('top-k 1 is the likeliest character at any temperature; top-k 2 draws the two likeliest only', () => {
    expect(draws(1, 5)).toEqual(new Set([1]))
    expect(draws(2, 5)).toEqual(new Set([1, 3]))
    expect(draws(0, 5)).toEqual(new Set([0, 1, 2, 3, 4]))
  })

  it('top-k of the vocabulary size or more draws exactly as no top-k', () => {
    const pick = (topK: number): number[] => {
      const s = new Sampler([0], { length: 0, temperature: 1, topK, seed: 3 })
      return Array.from({ length: 50 }, () => s.pick(scores))
    }
    expect(pick(5)).toEqual(pick(0))
    expect(pick(99)).toEqual(pick(0))
  })

  it('ties at the cut keep the lower index', () => {
    const s = new Sampler([0], { length: 0, temperature: 10, topK: 2, seed: 1 })
    const tied = [1, 3, 3, 3]
    expect(new Set(Array.from({ length: 200 }, () => s.pick(tied)))).toEqual(new Set([1, 2]))
  })

  it('refuses scores that are not finite (weights that diverged), at any temperature, instead of drawing character 0', () => {
    for (const temperature of [0, 1]) {
      const s = new Sampler([0], { length: 1, temperature, seed: 0 })
      expect(() => s.pick([0.5, NaN, 1])).toThrow(/^the model's next-character scores are not finite \(NaN for character 1\): its weights have diverged/)
      expect(() => s.pick([Infinity, 0])).toThrow(/not finite \(Infinity for character 0\)/)
    }
  })

  it('refuses a top-k that is not a whole number >= 0', () => {
    expect(() => new Sampler([0], { length: 1, temperature: 1, topK: -1, seed: 0 })).toThrow('top-k must be a whole number >= 0, got -1')
    expect(() => new Sampler([0], { length: 1, temperature: 1, topK: 1.5, seed: 0 })).toThrow('top-k must be a whole number >= 0, got 1.5')
  })

  it('top-k changes the text the checkpoint writes (and 1 writes what temperature 0 writes)', async () => {
    const run = async (...o: string[]): Promise<string> => (await lm('sample', '--checkpoint', ck, '--length', '120', '--seed', '4', ...o)).stdout
    expect(await run('--temperature', '2', '--top-k', '1')).toBe(await run('--temperature', '0'))
    expect(await run('--temperature', '2', '--top-k', '3')).not.toBe(await run('--temperature', '2'))
  })
})
