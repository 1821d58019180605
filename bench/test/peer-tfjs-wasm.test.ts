// tfjs-wasm computes the same workloads as graphgrad (same losses from the same weights) and does not leak.
// One file per tfjs backend: tfjs holds one backend per process.
import { describe, it } from 'vitest'
import { tfjsRunner } from '../src/impls/tfjs.ts'
import { TINY_CHAIN, TINY_MODELS, expectMatmulRuns, expectNoLeak, expectSameLosses } from './same-workload.ts'

const peer = tfjsRunner('wasm')

describe('tfjs-wasm runs the same workloads as graphgrad', () => {
  for (const w of TINY_MODELS) it(w.name, () => expectSameLosses(peer, w))
  it('op chain', () => expectSameLosses(peer, TINY_CHAIN))
  it('matmul, without leaking', () => expectMatmulRuns(peer))
  it('training step without leaking', () => expectNoLeak(peer, TINY_MODELS[0]))
})
