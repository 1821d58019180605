// tfjs-cpu computes the same workloads as graphgrad (same losses from the same weights) and does not leak.
// One file per tfjs backend: tfjs holds one backend per process.
import { describe, it } from 'vitest'
import { tfjsRunner } from '../src/impls/tfjs.ts'
import { TINY_CHAIN, TINY_MODELS, expectMatmulRuns, expectNoLeak, expectSameLosses } from './same-workload.ts'

const peer = tfjsRunner('cpu')

describe('tfjs-cpu runs the same workloads as graphgrad', () => {
  // tf.layers' LSTM has one bias vector (b_ih + b_hh) where graphgrad has two, so after the
  // first Adam step the bias moves by half as much and later losses agree less tightly.
  for (const w of TINY_MODELS) it(w.name, () => expectSameLosses(peer, w, w.cell === 'lstm' ? 1e-3 : 1e-4))
  it('op chain', () => expectSameLosses(peer, TINY_CHAIN))
  it('matmul, without leaking', () => expectMatmulRuns(peer))
  it('training step without leaking', () => expectNoLeak(peer, TINY_MODELS[0]))
})
