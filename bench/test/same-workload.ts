/**
 * Shared by the peer tests: tiny versions of every workload kind, and the check that an
 * implementation computes the same thing as graphgrad (same loss from the same weights).
 * @module
 */
import { expect } from 'vitest'
import type { Runner, RunnerFactory } from '../src/impl.ts'
import { graphgradRunner } from '../src/impls/graphgrad.ts'
import type { ChainWorkload, MatmulWorkload, ModelWorkload } from '../src/workloads.ts'

const TINY = { vocab: 5, batch: 2, seq: 3, embed: 4, hidden: 6 }

/** Tiny model workloads: both cells trained, and the LSTM's forward pass. */
export const TINY_MODELS: readonly ModelWorkload[] = [
  { kind: 'train', name: 'tiny_lstm_train', cell: 'lstm', shape: TINY },
  { kind: 'train', name: 'tiny_gru_train', cell: 'gru', shape: TINY },
  { kind: 'forward', name: 'tiny_lstm_forward', cell: 'lstm', shape: TINY },
]

/** A tiny op chain. */
export const TINY_CHAIN: ChainWorkload = { kind: 'chain', name: 'tiny_chain', length: 20, width: 4 }

/** A tiny matmul. */
const TINY_MATMUL: MatmulWorkload = { kind: 'matmul', name: 'tiny_matmul', n: 8 }

/**
 * The runner's count of live objects. Every peer must have one (tfjs tensors and jax-js
 * buffers are freed by hand, so a leak is a bug these tests exist to catch): a runner without
 * `live`, or whose `live` gives no count, fails here instead of comparing undefined with
 * undefined. graphgrad's runners have no `live` (its tensors are garbage-collected arrays) and
 * are never asked.
 */
async function liveCount(runner: Runner, where: string): Promise<number> {
  expect(runner.live, `${where}: the peer's runner has no live() count`).toBeTypeOf('function')
  const n = await runner.live?.()
  expect(n, `${where}: live() gave no count`).toBeTypeOf('number')
  expect(Number.isInteger(n) && (n as number) >= 0, `${where}: live() gave ${n}, not a count`).toBe(true)
  return n as number
}

/** `steps` losses of `runner`, then disposes it; `peer` runners must also count their live objects. */
async function losses(runner: Runner, steps: number, where: string | null): Promise<number[]> {
  const out: number[] = []
  try {
    if (where !== null) await liveCount(runner, `${where}, before the first run`)
    for (let i = 0; i < steps; i++) {
      const loss = await runner.run()
      if (loss === undefined) throw new Error('the runner returned no loss')
      out.push(loss)
    }
    if (where !== null) await liveCount(runner, `${where}, after ${steps} runs`)
  } finally {
    runner.dispose()
  }
  return out
}

/**
 * Runs `w` in graphgrad and in `peer` for a few steps: the first loss must agree (same
 * weights, same data), every loss be finite, training losses decrease and forward losses
 * repeat; `laterTol` bounds how far later training losses may drift from graphgrad's
 * (tf.layers' LSTM has one bias where PyTorch has two, so Adam moves it differently).
 * The peer's runner must count its live objects (see {@link liveCount}), for every workload kind.
 */
export async function expectSameLosses(peer: RunnerFactory, w: ModelWorkload | ChainWorkload, laterTol = 1e-4): Promise<void> {
  const steps = 3
  const ours = await losses(await graphgradRunner(w), steps, null)
  const theirs = await losses(await peer(w), steps, w.name)
  expect(theirs.every(Number.isFinite)).toBe(true)
  expect(Math.abs(theirs[0] - ours[0])).toBeLessThan(1e-5 * Math.max(1, Math.abs(ours[0])))
  if (w.kind === 'train') {
    for (let i = 1; i < steps; i++) expect(theirs[i]).toBeLessThan(theirs[i - 1])
    for (let i = 1; i < steps; i++) expect(Math.abs(theirs[i] - ours[i])).toBeLessThan(laterTol)
  } else {
    expect(new Set(theirs).size).toBe(1)
  }
}

/** The peer's matmul runs, and its live-object count (which it must have) is flat across runs (no leak). */
export async function expectMatmulRuns(peer: RunnerFactory): Promise<void> {
  const runner = await peer(TINY_MATMUL)
  try {
    await runner.run()
    const before = await liveCount(runner, 'matmul, after 1 run')
    for (let i = 0; i < 5; i++) await runner.run()
    expect(await liveCount(runner, 'matmul, after 6 runs')).toBe(before)
  } finally {
    runner.dispose()
  }
}

/** A training runner's live-object count (which it must have) is the same after 2 and after 5 steps (no leak). */
export async function expectNoLeak(peer: RunnerFactory, w: ModelWorkload): Promise<void> {
  const runner = await peer(w)
  try {
    for (let i = 0; i < 2; i++) await runner.run()
    const before = await liveCount(runner, `${w.name}, after 2 steps`)
    for (let i = 0; i < 3; i++) await runner.run()
    expect(await liveCount(runner, `${w.name}, after 5 steps`)).toBe(before)
  } finally {
    runner.dispose()
  }
}
