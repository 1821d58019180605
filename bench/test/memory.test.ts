// graphgrad's memory figures: the probe around one training step and the soak's checkpoints.
import v8 from 'node:v8'
import vm from 'node:vm'
import { describe, expect, it } from 'vitest'
import { Tensor } from '@graphgrad/core'
import { backwardProbe } from '@graphgrad/core/internal'
import { savedActivationBytes } from '../src/data.ts'
import { graphgradRunner } from '../src/impls/graphgrad.ts'
import { memoryFigures } from '../src/measure.ts'
import { runSoak } from '../src/soak.ts'
import type { ModelShape } from '../src/workloads.ts'

const TINY: ModelShape = { vocab: 5, batch: 2, seq: 3, embed: 4, hidden: 6 }

type QueryObjects = (ctor: abstract new (...args: never[]) => unknown, options: { format: 'count' }) => number
/** Node's `v8.queryObjects` (Node 20.13+; absent from @types/node 20). */
const queryObjects = (v8 as unknown as { queryObjects?: QueryObjects }).queryObjects

/**
 * Live tensors and typed arrays after full collections, counted by constructor: what a
 * leaking training step would grow. A background compile job can hold a step's objects for
 * a moment, so each count is the least of a few rounds of yield, collect twice, count.
 */
async function liveCounts(ask: QueryObjects): Promise<Record<string, number>> {
  v8.setFlagsFromString('--expose-gc')
  const gc = vm.runInNewContext('gc') as () => void
  const counts: Record<string, number> = {}
  for (let round = 0; round < 3; round++) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    gc()
    gc()
    for (const [name, ctor] of [
      ['Tensor', Tensor],
      ['Float32Array', Float32Array],
      ['Float64Array', Float64Array],
    ] as const) {
      counts[name] = Math.min(counts[name] ?? Number.POSITIVE_INFINITY, ask(ctor, { format: 'count' }))
    }
  }
  return counts
}

describe('memory', () => {
  it('saved activations from the shapes: embedding, gates and states, logits and softmax, float32', () => {
    // per position: E + 4H + 2H + 2V = 4 + 24 + 12 + 10 = 50 floats; 6 positions
    expect(savedActivationBytes('lstm', TINY)).toBe(4 * 6 * 50)
    // GRU: E + 3H gates + H candidate + H state + 2V = 4 + 18 + 6 + 6 + 10 = 44
    expect(savedActivationBytes('gru', TINY)).toBe(4 * 6 * 44)
  })
  it('the probed step reads at every backward node and every chunk of the scan, and leaves no probe installed', async () => {
    const runner = await graphgradRunner({ kind: 'train', name: 'tiny', cell: 'lstm', shape: { ...TINY, batch: 16, seq: 32, hidden: 64 } })
    await runner.run()
    const probe = await runner.memoryProbe?.()
    if (probe === undefined) throw new Error('graphgrad training runners have a memory probe')
    expect(probe.afterForwardBytes).toBeGreaterThan(probe.beforeBytes)
    // B = 16 rows: chunks of ceil(512 / 16) = 32 steps, so one chunk forward and one backward.
    expect(probe.probedPeak.inside).toBe(2)
    expect(probe.probedPeak.nodes).toBeGreaterThan(5)
    expect(probe.probedPeak.bytes).toBeGreaterThan(probe.beforeBytes)
    expect(backwardProbe()).toBeNull()
  })
  it('memory figures: the highest reading over the step start, against the saved activations', () => {
    const MiB = 1024 * 1024
    const peak = { bytes: 30 * MiB, at: 'recurrent scan backward (inside)', nodes: 21, inside: 8 }
    const f = memoryFigures({ beforeBytes: 10 * MiB, afterForwardBytes: 25 * MiB, afterBackwardBytes: 12 * MiB, probedPeak: peak }, 8 * MiB)
    expect(f.at).toBe('recurrent scan backward (inside)')
    expect(f.numbers).toEqual({
      peak_heap_mb: 30,
      step_heap_mb: 20,
      boundary_step_mb: 15,
      saved_activation_mb: 8,
      step_heap_vs_saved: 2.5,
      probed_nodes: 21,
      probed_inside: 8,
    })
    const atBoundary = memoryFigures({ beforeBytes: 10 * MiB, afterForwardBytes: 40 * MiB, afterBackwardBytes: 12 * MiB, probedPeak: peak }, 8 * MiB)
    expect(atBoundary.at).toBe('forward/backward boundary')
  })
  it.skipIf(queryObjects === undefined)('a training step leaves no tensor or typed array behind', async () => {
    const ask = queryObjects as QueryObjects
    const runner = await graphgradRunner({ kind: 'train', name: 'tiny', cell: 'lstm', shape: TINY })
    for (let i = 0; i < 3; i++) await runner.run()
    const before = await liveCounts(ask)
    for (let i = 0; i < 30; i++) await runner.run()
    expect(await liveCounts(ask)).toEqual(before)
    expect(before.Tensor).toBeGreaterThan(0)
  })
  it('the soak reads the heap at its checkpoints and trains', async () => {
    const r = await runSoak({ kind: 'memory', name: 'memory_tiny', steps: 6, checkpoints: [3, 6], shape: TINY })
    expect(r.runs).toBe(6)
    expect(r.heap_mb_at_3).toBeGreaterThan(0)
    expect(r.heap_mb_at_6).toBeGreaterThan(0)
    expect(r.loss_last).toBeLessThan(r.loss_first ?? Number.NaN)
  })
})
