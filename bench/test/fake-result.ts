import type { BenchResult } from '../src/result.ts'

/** A result with every timing at `median` (ms), for the table and docs tests. */
export function fakeResult(name: string, impl: string, median: number, gflops?: number): BenchResult {
  return {
    name,
    impl,
    median_ms: median,
    min_ms: median,
    max_ms: median,
    runs: 3,
    warmup: 2,
    first_ms: median,
    peak_rss_mb: 100,
    ...(gflops === undefined ? {} : { gflops }),
  }
}
