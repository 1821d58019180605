/**
 * The true peak of live memory during one graphgrad training step: a probe installed in
 * core's backward pass (`setBackwardProbe` from `@graphgrad/core/internal`) forces full
 * garbage collections and reads the live bytes after every node's VJP and at every chunk of
 * steps of the recurrent scan, forward and backward (where its scratch buffers are live).
 * Used for one extra step only: the timed runs never have a probe installed.
 * @module
 */
import { setBackwardProbe } from '@graphgrad/core/internal'

/** The highest reading of one probed pass, and where it was taken. */
export interface PeakReading {
  /** Highest live bytes read (V8 heap used + ArrayBuffers, after gc). */
  readonly bytes: number
  /** Where: the op whose VJP had just run, or `recurrent scan forward (inside)` / `recurrent scan backward (inside)` for a chunk of the scan. */
  readonly at: string
  /** Readings after a node's VJP (one per node of the pass). */
  readonly nodes: number
  /** Readings inside a fused op's loop (one per chunk of steps of the recurrent scan, forward and backward). */
  readonly inside: number
}

/**
 * Live bytes now, synchronously (the probe runs inside the pass, so it cannot yield as
 * `liveBytes` does): V8's `heapUsed` plus `arrayBuffers` (the typed-array backing stores
 * where tensors live) after two full collections; the second one first finishes the
 * concurrent sweep of the first, so dead buffers are no longer counted. `external` is not
 * added: it already includes `arrayBuffers`, and the rest of it is Node's own C++ objects,
 * constant over a step. Without `--expose-gc` nothing is collected and the reading is an
 * upper bound.
 */
export function liveBytesNow(): number {
  const gc = (globalThis as { gc?: () => void }).gc
  gc?.()
  gc?.()
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}

/** Runs `pass` (a training step's forward and backward) with the probe installed; returns its result and the peak reading. */
export function probePeak<T>(pass: () => T): { result: T; peak: PeakReading } {
  let bytes = Number.NEGATIVE_INFINITY
  let at = ''
  let nodes = 0
  let inside = 0
  const saved = setBackwardProbe((op, isInside) => {
    if (isInside) inside++
    else nodes++
    const now = liveBytesNow()
    if (now > bytes) {
      bytes = now
      at = isInside ? `${op} (inside)` : op
    }
  })
  try {
    const result = pass()
    return { result, peak: { bytes, at, nodes, inside } }
  } finally {
    setBackwardProbe(saved)
  }
}
