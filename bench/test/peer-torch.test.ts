// PyTorch (torch-1thr, torch-2thr) computes the same workloads as graphgrad: the same losses
// from the same weights, at tiny sizes over three steps and at the benchmark's own sizes at
// step 0, and it does not leak tensors. Needs Debian's PyTorch at /usr/bin/python3 (or
// GRAPHGRAD_BENCH_PYTHON); without it the file is skipped with the reason printed, since the
// test suite never needs PyTorch.
import { describe, expect, it } from 'vitest'
import { graphgradRunner } from '../src/impls/graphgrad.ts'
import { torchRunner } from '../src/impls/torch.ts'
import { TORCH_INSTALL_HINT, torchMissing } from '../src/impls/torch-python.ts'
import { type ModelWorkload, WORKLOADS } from '../src/workloads.ts'
import { TINY_CHAIN, TINY_MODELS, expectMatmulRuns, expectNoLeak, expectSameLosses } from './same-workload.ts'

const missing = torchMissing()
if (missing !== undefined) console.log(`bench/test/peer-torch.test.ts skipped: ${missing} (to install: ${TORCH_INSTALL_HINT})`)

const oneThread = torchRunner(1)
const twoThreads = torchRunner(2)

/** The first run's loss of `w` in graphgrad and in PyTorch with `threads` threads. */
async function firstLosses(w: ModelWorkload, threads: number): Promise<[number, number]> {
  const first = async (runner: Awaited<ReturnType<typeof graphgradRunner>>): Promise<number> => {
    try {
      const loss = await runner.run()
      if (loss === undefined) throw new Error(`${w.name}: the runner returned no loss`)
      return loss
    } finally {
      runner.dispose()
    }
  }
  return [await first(await graphgradRunner(w)), await first(await torchRunner(threads)(w))]
}

describe.skipIf(missing !== undefined)('PyTorch runs the same workloads as graphgrad', () => {
  for (const w of TINY_MODELS) it(`${w.name}, 1 thread`, () => expectSameLosses(oneThread, w))
  it(`${TINY_MODELS[1].name}, 2 threads`, () => expectSameLosses(twoThreads, TINY_MODELS[1]))
  it('op chain', () => expectSameLosses(oneThread, TINY_CHAIN))
  it('matmul, without leaking', () => expectMatmulRuns(oneThread))
  it('training step without leaking', () => expectNoLeak(oneThread, TINY_MODELS[0]))
  // The benchmark's own model workloads: the same loss at step 0 within float32 rounding
  // (sums over 2,048 positions of 64 logits, in a different order in each library).
  for (const w of WORKLOADS) {
    if (w.kind !== 'train' && w.kind !== 'forward') continue
    const threads = w.cell === 'gru' ? 2 : 1
    it(`${w.name}: the first loss, ${threads} thread${threads === 1 ? '' : 's'}`, { timeout: 120_000 }, async () => {
      const [ours, theirs] = await firstLosses(w, threads)
      expect(Number.isFinite(theirs)).toBe(true)
      expect(Math.abs(theirs - ours)).toBeLessThan(1e-5 * Math.abs(ours))
    })
  }
})
