// `pnpm lm train` and `pnpm lm sample` end to end on a tiny corpus: real training, real files,
// resumed runs compared number for number with uninterrupted ones.
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { flattenParams } from '@graphgrad/core'
import { loadCheckpoint } from '../src/lm/checkpoint.ts'
import { Vocabulary } from '../src/lm/vocabulary.ts'
import { TINY, entries, tinyWith, lm, lmProcess, progress, tempDir, versionDir, writeTinyCorpus } from './lm-helpers.ts'

let dir: string
let corpus: string

beforeAll(() => {
  dir = tempDir()
  corpus = writeTinyCorpus(dir)
})

const FILES = ['config.json', 'lstm-state.safetensors', 'model.safetensors', 'optimizer.safetensors', 'progress.json']

describe('pnpm lm train', () => {
  it('learns: the loss falls well below chance, and the checkpoint holds what loads back', async () => {
    const ck = join(dir, 'learn')
    const run = await lm('train', '--text', corpus, '--checkpoint', ck, '--steps', '60', '--lr', '0.02', '--eval-every', '30', '--sample-every', '30', ...TINY)
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const chance = Number(/= ([\d.]+) nats/.exec(run.stdout)?.[1])
    expect(chance).toBeCloseTo(Math.log(Vocabulary.fromText(readFileSync(corpus, 'utf8')).size), 3)
    expect(run.stdout).toMatch(/^step 30: validation loss [\d.]+ nats, [\d.]+ bits per character$/m)
    expect(run.stdout).toMatch(/^step 60: sample ".{20}"$/m)
    // One current version with every file, nothing left over from the save at step 30.
    expect(entries(ck)).toEqual(['checkpoint.json', expect.stringMatching(/^step-000060-[0-9a-f]+$/)])
    expect(readdirSync(versionDir(ck)).sort()).toEqual(FILES)
    const p = progress(ck)
    expect(p.step).toBe(60)
    expect(p.losses).toHaveLength(60)
    expect(p.losses[0]).toBeCloseTo(chance, 0)
    expect(p.validation.map((v) => v.step)).toEqual([30, 60])
    const last = p.validation[1]
    expect(last.loss).toBeLessThan(0.75 * chance)
    expect(last.bpc).toBeCloseTo(last.loss / Math.LN2, 12)
    // Everything loads back: vocabulary, sizes, weights, optimizer step, carried state.
    const saved = await loadCheckpoint(ck)
    expect(saved.vocabulary.chars).toEqual(Vocabulary.fromText(readFileSync(corpus, 'utf8')).chars)
    expect(saved.model).toEqual({ vocabSize: saved.vocabulary.size, embedDim: 8, hidden: 16, layers: 1, dropout: 0 })
    expect(saved.state.step).toBe(60)
    expect(saved.state.optimizer.step).toBe(60)
    expect(saved.state.carried?.h.shape).toEqual([1, 4, 16])
    expect([...flattenParams(saved.state.params).keys()]).toEqual([
      'embed.weight',
      'lstm.weight_ih_l0',
      'lstm.weight_hh_l0',
      'lstm.bias_ih_l0',
      'lstm.bias_hh_l0',
      'head.weight',
      'head.bias',
    ])
    expect(`done: 60 steps; validation loss ${last.loss.toFixed(4)} nats`).toBe(/^done: .* nats/m.exec(run.stdout)?.[0])
  })

  it('--resume continues with exactly the numbers and weights of an uninterrupted run', async () => {
    // Two layers with dropout, so the carried state of both layers and the dropout keys are exercised;
    // 14 windows per pass, so both halves of the resumed run cross the start of a new pass.
    const opts = ['--text', corpus, '--eval-every', '10', '--sample-every', '100', ...tinyWith({ layers: '2', dropout: '0.2' })]
    const whole = join(dir, 'whole')
    const part = join(dir, 'part')
    expect((await lm('train', ...opts, '--checkpoint', whole, '--steps', '34')).code).toBe(0)
    expect((await lm('train', ...opts, '--checkpoint', part, '--steps', '13')).code).toBe(0)
    expect(progress(part).step).toBe(13)
    const resumed = await lm('train', '--checkpoint', part, '--steps', '34', '--resume', '--eval-every', '10', '--sample-every', '100')
    expect(resumed.stderr).toBe('')
    expect(resumed.stdout).toContain('resuming')
    const a = progress(whole)
    const b = progress(part)
    expect(b.step).toBe(34)
    expect(b.losses).toEqual(a.losses)
    expect(b.gradNorms).toEqual(a.gradNorms)
    expect(b.validation.at(-1)).toEqual(a.validation.at(-1))
    for (const f of ['model.safetensors', 'optimizer.safetensors', 'lstm-state.safetensors']) {
      expect(readFileSync(join(versionDir(part), f)).equals(readFileSync(join(versionDir(whole), f))), f).toBe(true)
    }
  })

  it('with no --text trains on the State of the Union addresses 1992-2021, reports the untrained baseline, and --resume reads them again', async () => {
    const ck = join(dir, 'sotu')
    const run = await lm('train', '--checkpoint', ck, '--steps', '2', ...TINY)
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/^corpus: 30 State of the Union addresses, 1992 \(George Bush\) to 2021 \(Joseph R Biden\), from @stdlib\/datasets-sotu$/m)
    const chars = Number(/^ {2}(\d+) characters/m.exec(run.stdout)?.[1])
    expect(chars).toBeGreaterThan(1_000_000)
    const untrained = Number(/^untrained \(the initial weights\): validation loss [\d.]+ nats, ([\d.]+) bits per character$/m.exec(run.stdout)?.[1])
    const saved = await loadCheckpoint(ck)
    // Near uniform guessing before training, and what the run's last line repeats.
    expect(untrained).toBeCloseTo(Math.log2(saved.vocabulary.size), 0)
    expect(run.stdout).toContain(`(untrained ${untrained.toFixed(3)}); checkpoint in ${ck}`)
    expect(saved.corpus.file).toBe('builtin:sotu')
    expect(saved.corpus.characters).toBe(chars)
    expect((await lm('train', '--checkpoint', ck, '--steps', '3', '--resume')).code).toBe(0)
    expect(progress(ck).step).toBe(3)
  })

  it("--corpus docs trains on the project's documentation, and --resume reads it again", async () => {
    const ck = join(dir, 'docs')
    const run = await lm('train', '--corpus', 'docs', '--checkpoint', ck, '--steps', '2', ...TINY)
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/^corpus: project documentation \(\d+ files: README\.md, docs\//m)
    const saved = await loadCheckpoint(ck)
    expect(saved.corpus.file).toBe('builtin:docs')
    expect(saved.vocabulary.has('#')).toBe(true)
    expect((await lm('train', '--checkpoint', ck, '--steps', '3', '--resume')).code).toBe(0)
    expect(progress(ck).step).toBe(3)
  })

  it('a save removes leftovers of an interrupted one, and loading reads only the version checkpoint.json names', async () => {
    const ck = join(dir, 'leftovers')
    expect((await lm('train', '--text', corpus, '--checkpoint', ck, '--steps', '3', ...TINY)).code).toBe(0)
    // What a crash mid-save leaves: a half-written temporary version, and a complete version not yet pointed at.
    mkdirSync(join(ck, '.tmp-step-000009-abcdef'))
    mkdirSync(join(ck, 'step-000009-abcdef'))
    expect((await loadCheckpoint(ck)).state.step).toBe(3)
    expect((await lm('train', '--checkpoint', ck, '--steps', '5', '--resume')).code).toBe(0)
    expect(entries(ck)).toEqual(['checkpoint.json', expect.stringMatching(/^step-000005-[0-9a-f]+$/)])
  })
})

describe('pnpm lm sample', () => {
  let ck: string
  beforeAll(async () => {
    ck = join(dir, 'for-sampling')
    expect((await lm('train', '--text', corpus, '--checkpoint', ck, '--steps', '40', '--lr', '0.02', ...TINY)).code).toBe(0)
  })

  it('continues the prompt, and the same seed gives the same text', async () => {
    const args = ['sample', '--checkpoint', ck, '--prompt', 'the ', '--length', '50', '--temperature', '1']
    const one = await lm(...args, '--seed', '1')
    expect(one.code).toBe(0)
    expect(one.stdout).toMatch(/^the [^]{50}\n$/)
    expect((await lm(...args, '--seed', '1')).stdout).toBe(one.stdout)
    expect((await lm(...args, '--seed', '2')).stdout).not.toBe(one.stdout)
  })

  it('at temperature 0 always takes the likeliest character, whatever the seed', async () => {
    const args = ['sample', '--checkpoint', ck, '--prompt', 'the ', '--length', '30', '--temperature', '0']
    expect((await lm(...args, '--seed', '1')).stdout).toBe((await lm(...args, '--seed', '2')).stdout)
  })

  it("runs as a real process (pnpm lm), and --help lists each command's options", async () => {
    const [sample, help, trainHelp] = await Promise.all([
      lmProcess('sample', '--checkpoint', ck, '--prompt', 'a cat', '--length', '20', '--seed', '3'),
      lmProcess('--help'),
      lmProcess('train', '--help'),
    ])
    expect(sample.stderr).toBe('')
    expect(sample.code).toBe(0)
    expect(sample.stdout).toBe((await lm('sample', '--checkpoint', ck, '--prompt', 'a cat', '--length', '20', '--seed', '3')).stdout)
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/train .*\n.*sample/)
    expect(trainHelp.code).toBe(0)
    for (const o of ['--text FILE', '--checkpoint DIR', '--resume', '--steps N', '--hidden N', '--layers N', '--lr X']) expect(trainHelp.stdout).toContain(o)
    expect(existsSync(join(ck, 'checkpoint.json'))).toBe(true)
  })
})
