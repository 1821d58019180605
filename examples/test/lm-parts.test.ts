// The parts of `pnpm lm` on their own: the default corpus, text checks, vocabulary, batching for BPTT, options.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseArgs } from '../src/shared/args.ts'
import { Streams, splitTokens } from '../src/lm/batching.ts'
import { characterCount, decodeText, projectDocsCorpus, readTextFile } from '../src/lm/corpus.ts'
import { TRAIN_COMMAND } from '../src/lm/commands.ts'
import { builtinCorpus, builtinFile, recordedCorpus } from '../src/lm/builtin-corpus.ts'
import { Vocabulary } from '../src/lm/vocabulary.ts'
import { LIMITS, modelParameterCount, modelProblem, trainingProblem } from '../src/lm/limits.ts'
import { charModel, parameterCount } from '../src/lm/model.ts'
import { tempDir } from './lm-helpers.ts'

describe('the built-in corpora', () => {
  const root = new URL('../../', import.meta.url).pathname

  it('sotu (the default) holds the 30 addresses of 1992-2021 in year order, sotu-all all 233', async () => {
    const recent = await builtinCorpus('sotu', root)
    const all = await builtinCorpus('sotu-all', root)
    expect(recent.source).toMatch(/^30 State of the Union addresses, 1992 /)
    expect(all.source).toMatch(/^233 State of the Union addresses, 1790 \(George Washington\) to 2021 /)
    expect(recent.text.length).toBeGreaterThan(1_000_000)
    expect(all.text.length).toBeGreaterThan(10_000_000)
    // The recent addresses are the end of the whole collection, and the same text every time.
    expect(all.text.endsWith(recent.text)).toBe(true)
    expect((await builtinCorpus('sotu', root)).sha256).toBe(recent.sha256)
  })

  it('a checkpoint records a built-in corpus by name; an empty name (older checkpoints) is the documentation', async () => {
    expect(builtinFile('sotu')).toBe('builtin:sotu')
    expect((await recordedCorpus('builtin:sotu', root)).sha256).toBe((await builtinCorpus('sotu', root)).sha256)
    expect((await recordedCorpus('', root)).sha256).toBe(projectDocsCorpus(root).sha256)
    await expect(builtinCorpus('bible', root)).rejects.toThrow("--corpus must be one of sotu, sotu-all, docs, got 'bible'")
  })
})

describe('the docs corpus', () => {
  it('is the documentation found at run time: README.md first, then docs/**/*.md, without build output', () => {
    const root = tempDir()
    const put = (path: string, text: string): void => {
      mkdirSync(join(root, path, '..'), { recursive: true })
      writeFileSync(join(root, path), text)
    }
    put('README.md', '# Title\r\nintro\r\n')
    put('CONTRIBUTING.md', 'how to help')
    put('docs/guide/b.md', 'guide b')
    put('docs/a.md', 'doc a')
    put('docs/.vitepress/cache/deps/x.md', 'cached')
    put('docs/api/core.md', 'generated API pages')
    put('docs/node_modules/pkg/README.md', 'a dependency')
    put('docs/notes.txt', 'not markdown')
    const corpus = projectDocsCorpus(root)
    expect(corpus.files.map((f) => f.slice(root.length + 1))).toEqual(['README.md', 'CONTRIBUTING.md', 'docs/a.md', 'docs/guide/b.md'])
    expect(corpus.text).toBe('# Title\nintro\n\nhow to help\n\ndoc a\n\nguide b\n')
  })

  it("gathers this repository's own documentation", () => {
    const corpus = projectDocsCorpus(new URL('../../', import.meta.url).pathname)
    expect(corpus.files[0]).toMatch(/README\.md$/)
    expect(corpus.files.some((f) => f.includes('/docs/'))).toBe(true)
    expect(corpus.text.length).toBeGreaterThan(5000)
  })
})

describe('text checks', () => {
  it('accepts UTF-8 text (a BOM and CRLF line endings are normalised) and names the file when refusing', () => {
    expect(decodeText(new TextEncoder().encode('\uFEFFline one\r\nline two, 😀\r\n'), 'f.txt')).toBe('line one\nline two, 😀\n')
    expect(() => decodeText(new Uint8Array([0x61, 0xff, 0x62]), 'f.txt')).toThrow('f.txt is not valid UTF-8')
    expect(() => decodeText(new Uint8Array([0x61, 0, 0x62]), 'f.txt')).toThrow('f.txt looks like a binary file')
  })
})

describe('reading a text file', () => {
  it('reads a file whose size fstat does not know (a /proc file) and refuses one past the limit while reading', () => {
    expect(new TextDecoder().decode(readTextFile('/proc/self/status', 'status', 1 << 20))).toMatch(/^Name:/)
    expect(() => readTextFile('/proc/self/status', '--text status', 10)).toThrow(
      '--text status grew while it was read, past the 10 B (10 bytes) a training text may have',
    )
    const file = join(tempDir(), 'eleven.txt')
    writeFileSync(file, 'eleven char')
    expect(() => readTextFile(file, '--text eleven.txt', 10)).toThrow('--text eleven.txt is 11 B, more than the 10 B (10 bytes) a training text may have')
    expect(readTextFile(file, 'f', 11)).toEqual(new TextEncoder().encode('eleven char'))
  })

  it('counts characters as code points', () => {
    expect(characterCount('a😀b\ud800')).toBe(4)
    expect(characterCount('')).toBe(0)
  })
})

describe('vocabulary', () => {
  it('is the sorted set of code points, and encodes and decodes text (astral characters included)', () => {
    const v = Vocabulary.fromText('banana 😀 bread')
    expect(v.chars).toEqual([' ', 'a', 'b', 'd', 'e', 'n', 'r', '😀'])
    const ids = v.encode('bread 😀', 'the text')
    expect(Array.from(ids)).toEqual([2, 6, 4, 1, 3, 0, 7])
    expect(v.decode(ids)).toBe('bread 😀')
    expect(() => v.encode('brie', 'the prompt')).toThrow('the prompt has 1 character(s) the model never saw in training: "i"')
  })
})

describe('batching for truncated BPTT', () => {
  const ids = Int32Array.from({ length: 103 }, (_, i) => i)
  const streams = new Streams(ids, 4, 5, 'the text')

  it('lays the text out as contiguous streams, one per row; each window continues the previous one', () => {
    expect(streams.streamLength).toBe(25)
    expect(streams.windows).toBe(5)
    const w0 = streams.window(0).input.toArray() as number[][]
    const w1 = streams.window(1).input.toArray() as number[][]
    expect(w0[2]).toEqual([50, 51, 52, 53, 54])
    expect(w1[2]).toEqual([55, 56, 57, 58, 59])
    expect(streams.window(4).target.toArray()).toEqual([0, 1, 2, 3].map((b) => [21, 22, 23, 24, 25].map((t) => 25 * b + t)))
  })

  it('holds out the end of the text for validation', () => {
    const { train, validation } = splitTokens(ids, 0.1)
    expect(train.length).toBe(93)
    expect(Array.from(validation)).toEqual([93, 94, 95, 96, 97, 98, 99, 100, 101, 102])
  })

  it('refuses a text too short for one window', () => {
    expect(() => new Streams(ids, 20, 8, 'the text')).toThrow(
      'the text has 103 characters, too few for batches of 20 rows x 8 characters (it needs at least 161)',
    )
  })
})

describe('size limits', () => {
  const GiB = 2 ** 30
  const model = { vocabSize: 100, embedDim: 32, hidden: 128, layers: 2, dropout: 0 }
  it('the parameter count is what the model creates', () => {
    const small = { ...model, hidden: 5, embedDim: 3, vocabSize: 7 }
    expect(modelParameterCount(small)).toBe(parameterCount(charModel(small).init(0)))
  })

  it('lets the default run train on any machine with 2 GiB, and refuses a model a checkpoint cannot hold', () => {
    expect(trainingProblem(model, { batch: 16, seq: 64 }, 200000, { bytes: GiB, why: 'test' })).toBeUndefined()
    expect(trainingProblem({ ...model, hidden: LIMITS.hidden, layers: 1 }, { batch: 1, seq: 1 }, 100, { bytes: Infinity, why: 'none' })).toBeUndefined()
    expect(modelProblem({ ...model, hidden: LIMITS.hidden, layers: 2 })).toMatch(
      /^the model would have \d+ parameters, more than the 268000000 a checkpoint can hold/,
    )
    expect(trainingProblem(model, { batch: 4096, seq: 1000 }, 100, { bytes: 8 * GiB, why: 'a test limit' })).toMatch(
      /^this run needs about [\d.]+ GiB of memory \(.*activations of one step [\d.]+ GiB\), more than the 8\.0 GiB allowed \(a test limit\)/,
    )
  })
})

describe('options', () => {
  it('takes --name value and --name=value, applies defaults, and records what was typed', () => {
    const args = parseArgs(TRAIN_COMMAND, ['--steps=7', '--text', 'a.txt', '--resume'])
    if (args === 'help') throw new Error('unexpected help')
    expect(args.number('steps')).toBe(7)
    expect(args.string('text')).toBe('a.txt')
    expect(args.flag('resume')).toBe(true)
    expect(args.number('hidden')).toBe(128)
    expect([...args.given].sort()).toEqual(['resume', 'steps', 'text'])
    expect(parseArgs(TRAIN_COMMAND, ['--steps', '3', '--help'])).toBe('help')
  })
})
