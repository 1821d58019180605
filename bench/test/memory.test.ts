// graphgrad's memory figures: the probe around one training step and the soak's checkpoints.
import { describe, expect, it } from 'vitest'
import { savedActivationBytes } from '../src/data.ts'
import { graphgradRunner } from '../src/impls/graphgrad.ts'
import { runSoak } from '../src/soak.ts'
import type { ModelShape } from '../src/workloads.ts'

const TINY: ModelShape = { vocab: 5, batch: 2, seq: 3, embed: 4, hidden: 6 }

describe('memory', () => {
  it('saved activations from the shapes: embedding, gates and states, logits and softmax, float32', () => {
    // per position: E + 4H + 2H + 2V = 4 + 24 + 12 + 10 = 50 floats; 6 positions
    expect(savedActivationBytes('lstm', TINY)).toBe(4 * 6 * 50)
    // GRU: E + 3H gates + H candidate + H state + 2V = 4 + 18 + 6 + 6 + 10 = 44
    expect(savedActivationBytes('gru', TINY)).toBe(4 * 6 * 44)
  })
  it('the probe sees the forward pass keep memory for the backward pass', async () => {
    const runner = await graphgradRunner({ kind: 'train', name: 'tiny', cell: 'lstm', shape: { ...TINY, batch: 16, seq: 32, hidden: 64 } })
    runner.run()
    const probe = await runner.memoryProbe?.()
    if (probe === undefined) throw new Error('graphgrad training runners have a memory probe')
    expect(probe.afterForwardBytes).toBeGreaterThan(probe.beforeBytes)
  })
  it('the soak reads the heap at its checkpoints and trains', async () => {
    const r = await runSoak({ kind: 'memory', name: 'memory_tiny', steps: 6, checkpoints: [3, 6], shape: TINY })
    expect(r.runs).toBe(6)
    expect(r.heap_mb_at_3).toBeGreaterThan(0)
    expect(r.heap_mb_at_6).toBeGreaterThan(0)
    expect(r.loss_last).toBeLessThan(r.loss_first ?? Number.NaN)
  })
})
