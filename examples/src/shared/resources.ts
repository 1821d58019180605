/**
 * What a run would need, checked before anything is allocated: the number of elements of
 * its largest tensors (no tensor may hold more than 2^31 - 1, graphgrad's limit) and an
 * estimate of its memory, refused when it passes half of this machine's memory. Without
 * the check a run too large for the machine fails with `RangeError: Invalid typed array
 * length` or is killed by the kernel without a word; with it, the message gives the
 * estimate, the limit and which options to lower.
 *
 * The estimates are rough (measured peaks of the example commands, rounded up by about a
 * half): their purpose is to refuse what cannot work, not to predict the peak exactly.
 * @module
 */
import { totalmem } from 'node:os'

/** The most elements a graphgrad tensor may hold (core's MAX_ELEMENTS). */
const MAX_TENSOR_ELEMENTS = 2 ** 31 - 1

/** Memory Node itself and the loaded code take before a run allocates anything. */
const BASE_BYTES = 128 * 2 ** 20

/** One tensor a run would create, by what it is. */
export interface TensorNeed {
  /** What it is, for the message (`the LSTM's output of one step`). */
  readonly what: string
  /** Its shape. */
  readonly shape: readonly number[]
  /** What makes it smaller, for the message (`a smaller --batch or --seq`). */
  readonly hint?: string
}

/** One part of a run's memory, by what it holds. */
export interface MemoryPart {
  /** What it holds (`parameters, gradients and Adam's state`). */
  readonly what: string
  /** Its estimated size in bytes. */
  readonly bytes: number
}

/** How much memory runs may take: half of the machine's (or of the container's limit, if lower). */
export interface MemoryLimit {
  /** The limit in bytes. */
  readonly bytes: number
  /** Where it comes from, for the message. */
  readonly why: string
}

/** The limit on this machine: half of its memory, leaving the rest to the system and to other programs. */
export function machineMemoryLimit(): MemoryLimit {
  // A container's limit (cgroups) is lower than the machine's memory; without one Node reports a huge number.
  const constrained = process.constrainedMemory?.() ?? 0
  const total = constrained > 0 ? Math.min(totalmem(), constrained) : totalmem()
  return { bytes: total / 2, why: `half of this machine's ${formatBytes(total)}` }
}

/** Bytes in binary units: `512 B`, `8.5 KiB`, `140.0 MiB`, `11.8 GiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']
  let v = bytes
  let u = 0
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024
    u++
  }
  return u === 0 ? `${Math.round(v)} B` : `${v.toFixed(1)} ${units[u]}`
}

/** The message for the largest of `tensors` if it holds more than a tensor can, else undefined. */
export function tensorTooLarge(tensors: readonly TensorNeed[]): string | undefined {
  let largest: TensorNeed | undefined
  let most = 0
  for (const t of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1)
    if (n > most) [largest, most] = [t, n]
  }
  if (largest === undefined || most <= MAX_TENSOR_ELEMENTS) return undefined
  const hint = largest.hint === undefined ? '' : `; use ${largest.hint}`
  return `${largest.what} [${largest.shape.join(' x ')}] would hold ${most} numbers, more than the ${MAX_TENSOR_ELEMENTS} a tensor can hold${hint}`
}

/**
 * The message for a run whose memory (`parts`, plus {@link BASE_BYTES}) passes `limit`,
 * else undefined: `needs about 93.1 GiB of memory (parts), more than the 11.8 GiB allowed
 * (half of this machine's 23.5 GiB)`. Only parts of at least a hundredth of the total are named.
 */
export function memoryTooLarge(parts: readonly MemoryPart[], limit: MemoryLimit): string | undefined {
  const total = parts.reduce((s, p) => s + p.bytes, BASE_BYTES)
  if (total <= limit.bytes) return undefined
  const named = parts.filter((p) => p.bytes >= total / 100).map((p) => `${p.what} ${formatBytes(p.bytes)}`)
  return `needs about ${formatBytes(total)} of memory (${named.join(', ')}), more than the ${formatBytes(limit.bytes)} allowed (${limit.why})`
}
