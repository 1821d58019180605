/**
 * Matrix multiplication throughput: square n x n products, GFLOP/s = 2 n^3 / time.
 * @module
 */
import { type DType, matmul, randn } from '@graphgrad/core'
import { type BenchGroup, type BenchResult, type Timing, type TimingOptions, measure, round3 } from './timing.ts'
import { loadTfjs } from './tfjs.ts'

const SIZES = [256, 512, 1024]
const DTYPES: DType[] = ['float32', 'float64']

function timing(n: number): TimingOptions {
  return n >= 1024 ? { warmup: 1, minRuns: 3, minTimeMs: 0 } : { warmup: 2, minRuns: 5, minTimeMs: 400 }
}

/** `gflops` from wall time; `cpuGflops` from CPU time, which a busy machine disturbs less. */
function result(lib: string, n: number, dtype: DType, t: Timing): BenchResult {
  const flop = 2 * n ** 3
  return { bench: 'matmul', lib, n, dtype, gflops: round3(flop / t.ms / 1e6), ms: round3(t.ms), cpuGflops: round3(flop / t.cpuMs / 1e6) }
}

/** GFLOP/s of graphgrad's `matmul` and of tfjs's `matMul` (float32 only) at 256, 512 and 1024. */
export const matmulGroup: BenchGroup = {
  name: 'matmul',
  async *run() {
    const tf = await loadTfjs()
    for (const n of SIZES) {
      for (const dtype of DTYPES) {
        const a = randn([n, n], 1, { dtype })
        const b = randn([n, n], 2, { dtype })
        yield result('graphgrad', n, dtype, measure(() => matmul(a, b), timing(n)))
      }
      const [ta, tb] = [tf.randomNormal([n, n], 0, 1, 'float32', 1), tf.randomNormal([n, n], 0, 1, 'float32', 2)]
      yield result('tfjs-cpu', n, 'float32', measure(() => {
        const c = tf.matMul(ta, tb)
        c.dataSync()
        c.dispose()
      }, timing(n)))
      tf.dispose([ta, tb])
    }
  },
}
