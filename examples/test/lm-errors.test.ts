// Bad input to `pnpm lm`: every mistake ends with one clear line on stderr and a non-zero exit, never a stack trace.
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { type Run, TINY, copyCheckpoint, lm, tinyWith, lmProcess, rewrite, tempDir, versionDir, writeTinyCorpus } from './lm-helpers.ts'

let dir: string
let corpus: string
let ck: string

beforeAll(async () => {
  dir = tempDir()
  corpus = writeTinyCorpus(dir)
  ck = join(dir, 'run')
  expect((await lm('train', '--text', corpus, '--checkpoint', ck, '--steps', '4', ...TINY)).code).toBe(0)
})

/** Expects a failed run: exit code, one line on stderr (no stack trace), and the message. */
function expectFailure(run: Run, message: RegExp | string, code = 1): void {
  expect(run.code).toBe(code)
  expect(run.stderr.trimEnd().split('\n')).toHaveLength(1)
  expect(run.stderr).not.toMatch(/^\s+at /m)
  if (typeof message === 'string') expect(run.stderr).toContain(message)
  else expect(run.stderr).toMatch(message)
}

/** A copy of the trained checkpoint to damage. */
function copyOfCheckpoint(name: string): string {
  return copyCheckpoint(ck, join(dir, name))
}

describe('pnpm lm: bad training text', () => {
  it('a missing file, an empty one, a directory, a binary one, invalid UTF-8 (as a real process)', async () => {
    const empty = join(dir, 'empty.txt')
    writeFileSync(empty, '')
    const binary = join(dir, 'binary.bin')
    writeFileSync(
      binary,
      Uint8Array.from({ length: 3000 }, (_, i) => (i * 37) % 256),
    )
    const latin1 = join(dir, 'latin1.txt')
    writeFileSync(latin1, Uint8Array.from([...new TextEncoder().encode('caf'), 0xe9, 0x20, 0x61]))
    const controls = join(dir, 'controls.txt')
    writeFileSync(controls, 'abc\x01\x02\x03'.repeat(100))
    const blank = join(dir, 'blank.txt')
    writeFileSync(blank, ' \n\n\t \n')
    const runs = await Promise.all(
      [join(dir, 'nope.txt'), empty, dir, binary, latin1].map((f) => lmProcess('train', '--text', f, '--checkpoint', join(dir, 'unused'))),
    )
    expectFailure(runs[0], `lm train: --text ${join(dir, 'nope.txt')}: no such file`)
    expectFailure(runs[1], `${empty} is empty`)
    expectFailure(runs[2], 'is a directory')
    expectFailure(runs[3], `${binary} looks like a binary file (it contains NUL bytes)`)
    expectFailure(runs[4], `${latin1} is not valid UTF-8`)
    expectFailure(await lm('train', '--text', controls), /controls\.txt looks like a binary file \(300 of its 600 characters are control characters\)/)
    expectFailure(await lm('train', '--text', blank), 'holds only whitespace')
  })

  it('a text too short for the batch, or for a validation part', async () => {
    const short = join(dir, 'short.txt')
    writeFileSync(short, 'hello there, world')
    expectFailure(
      await lm('train', '--text', short, '--checkpoint', join(dir, 'unused'), '--batch', '4', '--seq', '8'),
      /too few for batches of 4 rows x 8 characters \(it needs at least 33\)/,
    )
    expectFailure(
      await lm('train', '--text', join(dir, 'short.txt'), '--val-fraction', '0.01', '--batch', '1', '--seq', '4'),
      'too short to hold out a validation part',
    )
  })
})

describe('pnpm lm: bad options', () => {
  it('names the option and what it must be, with exit code 2 (a usage error)', async () => {
    expectFailure(await lm('train', '--stpes', '10'), 'lm train: unknown option --stpes (see pnpm lm train --help)', 2)
    expectFailure(await lm('train', '--steps', 'ten'), "lm train: --steps must be a whole number >= 1, got 'ten'", 2)
    expectFailure(await lm('train', '--steps', '0'), "--steps must be a whole number >= 1, got '0'", 2)
    expectFailure(await lm('train', '--lr', '0'), "--lr must be a number > 0, got '0'", 2)
    expectFailure(await lm('train', '--dropout', '1.5'), "--dropout must be a number >= 0 and <= 0.99, got '1.5'", 2)
    expectFailure(await lm('sample', '--temperature', '-1'), "lm sample: --temperature must be a number >= 0, got '-1'", 2)
    expectFailure(await lm('sample', '--prompt'), 'lm sample: --prompt needs a value', 2)
    expectFailure(await lm('sample', 'hello'), "unexpected argument 'hello'", 2)
    expectFailure(await lm('train', '--steps', '5', '--steps', '6'), '--steps is given twice', 2)
    expectFailure(await lm('bake'), "lm: unknown command 'bake'", 2)
    expect((await lm()).code).toBe(2)
  })

  it('train refuses to overwrite a run without --force, and --resume refuses to change it', async () => {
    expectFailure(
      await lm('train', '--text', corpus, '--checkpoint', ck, ...TINY),
      `${ck} already holds a run; pass --resume to continue it, --force to replace it`,
    )
    expectFailure(
      await lm('train', '--checkpoint', ck, '--resume', '--hidden', '32'),
      `lm train: --hidden 32 differs from the run in ${ck} (16); a resumed run keeps its settings`,
    )
    const other = join(dir, 'other.txt')
    writeFileSync(other, readFileSync(corpus, 'utf8').replace('cat', 'bat'))
    expectFailure(await lm('train', '--checkpoint', ck, '--resume', '--text', other), `the text (${other}) is not the one the run in ${ck} was trained on`)
    expectFailure(await lm('train', '--checkpoint', join(dir, 'never-written'), '--resume'), 'no such directory')
    expectFailure(await lm('train', '--checkpoint', ck, '--resume', '--force'), 'give only one', 2)
    expectFailure(
      await lm('train', '--text', corpus, '--checkpoint', join(corpus, 'sub'), ...TINY),
      `cannot write the checkpoint to ${join(corpus, 'sub')}: ENOTDIR`,
    )
  })
})

describe('pnpm lm sample: bad checkpoints and prompts', () => {
  it('a prompt with characters outside the vocabulary, or an empty one (as a real process)', async () => {
    const [outside, empty] = await Promise.all([
      lmProcess('sample', '--checkpoint', ck, '--prompt', 'The CAT Ω'),
      lmProcess('sample', '--checkpoint', ck, '--prompt', ''),
    ])
    expectFailure(outside, 'lm sample: the prompt has 4 character(s) the model never saw in training: "T", "C", "A", "Ω"')
    expectFailure(empty, 'lm sample: the prompt is empty')
  })

  it('a directory that holds no checkpoint, or none at all', async () => {
    const bare = join(dir, 'bare')
    mkdirSync(bare)
    expectFailure(await lm('sample', '--checkpoint', bare), `${bare} is not a language-model checkpoint: it has no checkpoint.json`)
    expectFailure(await lm('sample', '--checkpoint', join(dir, 'missing')), 'no such directory')
    expectFailure(await lm('sample', '--checkpoint', corpus), 'is not a directory')
  })

  it('a corrupted checkpoint: truncated or altered weights, a missing file, bad JSON (as a real process)', async () => {
    const truncated = copyOfCheckpoint('truncated')
    const weights = readFileSync(join(versionDir(truncated), 'model.safetensors'))
    rewrite(truncated, 'model.safetensors', weights.subarray(0, 100), false)
    const altered = copyOfCheckpoint('altered')
    const flipped = Uint8Array.from(weights)
    flipped[flipped.length - 3] ^= 0x40
    rewrite(altered, 'model.safetensors', flipped, false)
    const missing = copyOfCheckpoint('missing-file')
    cpSync(corpus, join(versionDir(missing), 'ignored.txt'))
    writeFileSync(join(versionDir(missing), 'optimizer.safetensors'), '')
    const badPointer = copyOfCheckpoint('bad-pointer')
    writeFileSync(join(badPointer, 'checkpoint.json'), '{"format": "graphgrad-lm/1", "current": ')
    const runs = await Promise.all([truncated, altered, missing, badPointer].map((c) => lmProcess('sample', '--checkpoint', c)))
    expectFailure(runs[0], /model\.safetensors is corrupted: 100 bytes, checkpoint\.json recorded \d+ \(truncated or overwritten\?\)/)
    expectFailure(runs[1], /model\.safetensors is corrupted: its SHA-256 differs from the one checkpoint\.json recorded/)
    expectFailure(runs[2], /optimizer\.safetensors is corrupted: 0 bytes/)
    expectFailure(runs[3], /bad-pointer\/checkpoint\.json is corrupted: not valid JSON/)
  })

  it('damage that checkpoint.json agrees with: bad safetensors, bad JSON fields, a missing file', async () => {
    const badTensors = copyOfCheckpoint('bad-tensors')
    rewrite(badTensors, 'lstm-state.safetensors', new Uint8Array(12), true)
    expectFailure(await lm('sample', '--checkpoint', badTensors), /lstm-state\.safetensors/)
    const badField = copyOfCheckpoint('bad-field')
    const config = JSON.parse(readFileSync(join(versionDir(badField), 'config.json'), 'utf8'))
    rewrite(badField, 'config.json', JSON.stringify({ ...config, model: { ...config.model, layers: 'two' } }), true)
    expectFailure(await lm('sample', '--checkpoint', badField), /config\.json \(model\): field 'layers' must be a whole number in \[1, 64\], got "two"/)
    const gone = copyOfCheckpoint('gone')
    rmSync(join(versionDir(gone), 'progress.json'))
    expectFailure(await lm('sample', '--checkpoint', gone), /progress\.json is missing: the checkpoint is incomplete/)
  })

  it('a checkpoint of another model: weights of other sizes, or another format', async () => {
    const bigger = join(dir, 'bigger')
    expect((await lm('train', '--text', corpus, '--checkpoint', bigger, '--steps', '1', ...tinyWith({ hidden: '24' }))).code).toBe(0)
    const mixed = copyOfCheckpoint('mixed')
    rewrite(mixed, 'model.safetensors', readFileSync(join(versionDir(bigger), 'model.safetensors')), true)
    expectFailure(
      await lm('sample', '--checkpoint', mixed),
      /does not fit the model its config\.json describes \(a checkpoint of another model, or a corrupted one\): .*size mismatch for 'lstm\.weight_ih_l0': the model expects shape \[64,8\], the checkpoint has \[96,8\]/,
    )
    const foreign = copyOfCheckpoint('foreign')
    const pointerPath = join(foreign, 'checkpoint.json')
    writeFileSync(pointerPath, readFileSync(pointerPath, 'utf8').replace('graphgrad-lm/1', 'graphgrad-memory/1'))
    expectFailure(await lm('sample', '--checkpoint', foreign), "format 'graphgrad-memory/1' is not 'graphgrad-lm/1' (a checkpoint of another model?)")
  })
})
