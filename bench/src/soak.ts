/**
 * The memory soak: graphgrad's training step run many times, the live heap read after gc at
 * fixed step counts. Flat readings mean a step leaves nothing behind.
 * @module
 */
import { liveBytes } from './impl.ts'
import { graphgradRunner } from './impls/graphgrad.ts'
import { peakRssMb } from './measure.ts'
import type { BenchResult } from './result.ts'
import { round3, summarize } from './stats.ts'
import type { MemoryWorkload } from './workloads.ts'

/** Runs `w.steps` training steps of `w.shape`'s LSTM and reports step times and the heap at each checkpoint. */
export async function runSoak(w: MemoryWorkload, steps = w.steps): Promise<BenchResult> {
  const runner = await graphgradRunner({ kind: 'train', name: w.name, cell: 'lstm', shape: w.shape })
  const samples: number[] = []
  const heap: Record<string, number> = {}
  let lossFirst: number | undefined
  let lossLast: number | undefined
  const liveStart = await runner.live?.()
  for (let i = 1; i <= steps; i++) {
    const t0 = performance.now()
    lossLast = await runner.run()
    samples.push(performance.now() - t0)
    lossFirst ??= lossLast
    if (w.checkpoints.includes(i)) heap[`heap_mb_at_${i}`] = round3((await liveBytes()) / (1024 * 1024))
  }
  const liveEnd = await runner.live?.()
  return {
    name: w.name,
    impl: 'graphgrad',
    ...summarize(samples),
    warmup: 0,
    first_ms: round3(samples[0]),
    peak_rss_mb: peakRssMb(),
    ...(lossFirst === undefined ? {} : { loss_first: lossFirst }),
    ...(lossLast === undefined ? {} : { loss_last: lossLast }),
    ...(liveStart === undefined || liveEnd === undefined ? {} : { live_start: liveStart, live_end: liveEnd }),
    ...heap,
  }
}
