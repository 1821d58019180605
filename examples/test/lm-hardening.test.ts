// `pnpm lm train` when a run cannot go on: Ctrl-C, a run that diverges, a state that would not
// load back, and what a killed run left behind. (Bad options and inputs: cli-table.test.ts.)
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { flattenParams, tensor } from '@graphgrad/core'
import { SOURCE_NODE_FLAGS } from '../../scripts/source-condition.ts'
import { loadCheckpoint, saveCheckpoint } from '../src/lm/checkpoint.ts'
import { LmError } from '../src/lm/errors.ts'
import { type Run, TINY, entries, lm, progress, tempDir, tinyWith, writeTinyCorpus } from './lm-helpers.ts'

const root = new URL('../../', import.meta.url).pathname

let dir: string
let corpus: string

beforeAll(() => {
  dir = tempDir()
  corpus = writeTinyCorpus(dir)
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Starts a long `pnpm lm train` as a real process and sends it SIGINT once its stdout matches `ready`. */
function interrupted(argv: string[], ready: RegExp): Promise<Run & { readonly signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...SOURCE_NODE_FLAGS, 'examples/src/lm/cli.ts', 'train', ...argv], { cwd: root })
    let stdout = ''
    let stderr = ''
    let sent = false
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      stdout += text
      if (!sent && ready.test(stdout)) {
        sent = true
        child.kill('SIGINT')
      }
    })
    child.stderr.setEncoding('utf8').on('data', (text: string) => void (stderr += text))
    child.on('close', (code, signal) => resolve({ code: code ?? -1, signal, stdout, stderr }))
  })
}

describe('Ctrl-C during pnpm lm train', () => {
  it('finishes the step, says where the last checkpoint is, and exits 130 (as a real process)', async () => {
    const saving = join(dir, 'interrupted')
    const fresh = join(dir, 'interrupted-early')
    // Many steps, so that only Ctrl-C ends the runs; no validation or samples on the way.
    const long = ['--text', corpus, '--steps', '1000000', '--eval-every', '1000000', '--sample-every', '1000000', ...tinyWith({ 'log-every': '1' })]
    const [late, early] = await Promise.all([
      interrupted([...long, '--checkpoint', saving, '--checkpoint-every', '3'], /checkpoint saved/),
      interrupted([...long, '--checkpoint', fresh, '--checkpoint-every', '1000000'], /\] +2\/1000000/),
    ])
    expect(late.signal).toBeNull()
    expect(late.code).toBe(130)
    const m = /^lm train: interrupted at step (\d+); the last checkpoint \(step (\d+)\) is in (.+); continue with --resume\n$/.exec(late.stderr)
    expect(m, late.stderr).not.toBeNull()
    const [, at, kept, where] = m as RegExpExecArray
    expect(where).toBe(saving)
    expect(Number(kept) % 3).toBe(0)
    expect(Number(at)).toBeGreaterThanOrEqual(Number(kept))
    // The checkpoint named is the current one, complete, and nothing half-written is left.
    expect((await loadCheckpoint(saving)).state.step).toBe(Number(kept))
    expect(entries(saving)).toEqual(['checkpoint.json', expect.stringMatching(/^step-\d{6}-[0-9a-f]+$/)])
    expect(early.code).toBe(130)
    expect(early.stderr).toMatch(/^lm train: interrupted at step \d+; no checkpoint was written yet\n$/)
    expect(existsSync(join(fresh, 'checkpoint.json'))).toBe(false)
  })
})

describe('a run that cannot go on', () => {
  it('a loss that becomes NaN after a checkpoint stops the run and keeps that checkpoint', async () => {
    const ck = join(dir, 'diverging')
    const run = await lm('train', '--text', corpus, '--checkpoint', ck, '--steps', '3', '--checkpoint-every', '1', ...tinyWith({ lr: '1e30' }))
    expect(run.code).toBe(1)
    expect(run.stderr).toBe(`lm train: the loss became NaN at step 2 (try a smaller --lr or --clip); the last checkpoint (step 1) stays in ${ck}\n`)
    expect((await loadCheckpoint(ck)).state.step).toBe(1)
  })

  it('saveCheckpoint refuses a state the loader would refuse, and writes nothing', async () => {
    const ck = join(dir, 'refused')
    expect((await lm('train', '--text', corpus, '--checkpoint', ck, '--steps', '2', ...TINY)).code).toBe(0)
    const saved = await loadCheckpoint(ck)
    const before = entries(ck)
    const pointer = readFileSync(join(ck, 'checkpoint.json'))
    const name = 'head.bias'
    const bias = flattenParams(saved.state.params).get(name)
    if (bias === undefined) throw new Error('no head.bias')
    const data = bias.data
    data[3] = Infinity
    const params = saved.state.params.setIn(['head', 'bias'], tensor(data, { shape: bias.shape }))
    const bad = saveCheckpoint(ck, saved, { ...saved.state, step: 3, params }, 14)
    await expect(bad).rejects.toThrow(LmError)
    await expect(bad).rejects.toThrow(
      "the checkpoint of step 3 would not load back (model.safetensors: tensor 'head.bias' holds Infinity (element 3 of 15)), so it was not written",
    )
    const nullLoss = saveCheckpoint(ck, saved, { ...saved.state, validation: saved.state.validation.push({ step: 2, loss: NaN, bpc: NaN }) }, 14)
    await expect(nullLoss).rejects.toThrow('progress.json: the validation loss of step 2 is NaN')
    expect(entries(ck)).toEqual(before)
    expect(readFileSync(join(ck, 'checkpoint.json')).equals(pointer)).toBe(true)
  })
})

describe('leftovers of a killed run', () => {
  it("the next run removes checkpoint.json's temporary files of dead processes, and nothing else", async () => {
    const ck = join(dir, 'leftovers')
    expect((await lm('train', '--text', corpus, '--checkpoint', ck, '--steps', '2', ...TINY)).code).toBe(0)
    // Linux process ids stop at 2^22: no process has the first one. The second is this test's own.
    const stale = '.checkpoint.json.4194305.0123456789ab.tmp'
    const live = `.checkpoint.json.${process.pid}.abcdefabcdef.tmp`
    const others = ['.checkpoint.json.bak', 'notes.txt', '.checkpoint.json.4194305.tmp']
    for (const name of [stale, live, ...others]) writeFileSync(join(ck, name), 'left over')
    const run = await lm('train', '--checkpoint', ck, '--resume', '--steps', '3')
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(progress(ck).step).toBe(3)
    const names = readdirSync(ck)
    expect(names).not.toContain(stale)
    for (const name of [live, ...others]) {
      expect(names).toContain(name)
      expect(readFileSync(join(ck, name), 'utf8')).toBe('left over')
    }
  })
})
