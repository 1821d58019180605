/**
 * The logistic function as core's `sigmoid` computes it (never overflowing), so fused and
 * composed cells agree to the last bit where they can.
 * @module
 */

/** `1 / (1 + e^-x)`. */
export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))
}
