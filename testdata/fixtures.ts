/**
 * Loading the PyTorch reference fixtures (testdata/reference, copied from shared/reference)
 * and comparing against them with the manifest's allclose rule.
 */
import { readFileSync } from 'node:fs'
import type { OrderedMap } from 'immutable'
import { type Tensor, loadSafetensors } from '@graphgrad/core'

const dir = new URL('./reference/', import.meta.url)

/** One manifest entry. */
export interface ReferenceCase {
  file: string | null
  kind: string
  config: Record<string, unknown>
  tolerance: { atol: number; rtol: number }
  expected?: Record<string, number[]>
}

/** All manifest cases, optionally of one kind. */
export function referenceCases(kind?: string): ReferenceCase[] {
  const manifest = JSON.parse(readFileSync(new URL('manifest.json', dir), 'utf8')) as { cases: ReferenceCase[] }
  return manifest.cases.filter((c) => kind === undefined || c.kind === kind)
}

/** The tensors of a case's safetensors file. */
export function referenceTensors(c: ReferenceCase): OrderedMap<string, Tensor> {
  if (c.file === null) throw new Error(`case of kind ${c.kind} has no file`)
  return loadSafetensors(new Uint8Array(readFileSync(new URL(c.file, dir))))
}

/**
 * The worst violation of |a - e| <= atol + rtol |e| over all elements, as a message, or
 * null when every element passes. Shapes must match exactly.
 */
export function allcloseReport(name: string, actual: Tensor, expected: Tensor, tol: { atol: number; rtol: number }): string | null {
  if (actual.shape.join(',') !== expected.shape.join(',')) {
    return `${name}: shape [${actual.shape.join(',')}] but expected [${expected.shape.join(',')}]`
  }
  const a = actual.data
  const e = expected.data
  let worst = -1
  let worstExcess = 0
  for (let i = 0; i < e.length; i++) {
    const excess = Math.abs(a[i] - e[i]) - (tol.atol + tol.rtol * Math.abs(e[i]))
    if (excess > worstExcess || Number.isNaN(a[i]) !== Number.isNaN(e[i])) {
      worst = i
      worstExcess = Number.isNaN(excess) ? Infinity : excess
    }
  }
  return worst < 0 ? null : `${name}: element ${worst} is ${a[worst]}, expected ${e[worst]} (atol ${tol.atol}, rtol ${tol.rtol})`
}
