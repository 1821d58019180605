/**
 * Runs gradient checks over registries: the core's ops, the layers package's layers and
 * losses, and the checks a user's file exports. Each target's spec draws its cases from
 * seeded samplers, so a failure can be reproduced from its name and seed.
 * @module
 */
import { CaseSampler, type GradSpec, type NoGradient, type Tensor, foldIn, hasGradient, registeredOps } from '@graphgrad/core'
import { type GradcheckOptions, type GradcheckResult, gradcheck, gradgradcheck } from './gradcheck.ts'
import { type SummaryRow, formatResult } from './report.ts'

/** Something the command checks: a registered op or layer, or a user's check. */
export interface CheckTarget {
  /** Name shown in the table and matched by `--only`. */
  readonly name: string
  /** Where it came from. */
  readonly source: 'core' | 'layers' | 'user'
  /** How to draw its cases, or why it has no gradient. */
  readonly spec: GradSpec | NoGradient
  /** How many cases to draw (overrides the run's default, e.g. 1 for fixed inputs). */
  readonly cases?: number
  /** Extra gradcheck options (names of the inputs, fast mode, ...). */
  readonly options?: GradcheckOptions
}

/** A registry entry as the core and the layers package list them. */
export interface RegistryEntry {
  /** The op's or layer's name. */
  readonly name: string
  /** Its gradient-check spec. */
  readonly spec: GradSpec | NoGradient
}

/** Options of {@link runTarget}. */
export interface RunOptions {
  /** Base seed of the cases (default 0). */
  seed?: number
  /** Cases per target (default 4). */
  cases?: number
  /** 1: gradients (default), 2: second derivatives. */
  order?: 1 | 2
}

/** One failing case of a target. */
export interface CaseFailure {
  /** Case number, from 0. */
  readonly index: number
  /** The case's description (its shapes), from the spec. */
  readonly label: string
  /** The readable report, or the error the case threw. */
  readonly report: string
  /** The check's result; absent when the case threw. */
  readonly result?: GradcheckResult
}

/** The outcome of one target: a table row plus its failing cases. */
export interface TargetResult extends SummaryRow {
  /** Where the target came from. */
  readonly source: CheckTarget['source']
  /** The failing cases, with readable reports. */
  readonly failures: CaseFailure[]
  /** Time spent, in milliseconds. */
  readonly ms: number
}

/** Default number of cases per target. */
export const DEFAULT_CASES = 4

/** The seed of case `index` of target `name`: distinct per target, reproducible from the base seed. */
export function caseSeed(base: number, name: string, index: number): ReturnType<typeof foldIn> {
  let h = 0
  for (let i = 0; i < name.length; i++) h = (Math.imul(h, 31) + name.charCodeAt(i)) | 0
  return foldIn(foldIn(base, h), index)
}

/** Checks one target on its cases; errors thrown by a case count as failures of that case. */
export function runTarget(target: CheckTarget, options: RunOptions = {}): TargetResult {
  const started = performance.now()
  const order = options.order ?? 1
  const base = { name: target.name, source: target.source, cases: 0, maxAbsError: 0, maxRelError: 0, failures: [] as CaseFailure[] }
  if (!hasGradient(target.spec)) return { ...base, ok: true, skipped: `no gradient: ${target.spec.noGradient}`, ms: 0 }
  const spec = target.spec
  if (order === 2 && spec.secondOrder === false) return { ...base, ok: true, skipped: 'no second order', ms: 0 }
  const n = target.cases ?? options.cases ?? DEFAULT_CASES
  let maxAbs = 0
  let maxRel = 0
  const failures: CaseFailure[] = []
  for (let index = 0; index < n; index++) {
    let label = `case ${index}`
    try {
      const c = spec.sample(new CaseSampler(caseSeed(options.seed ?? 0, target.name, index)))
      label = c.label
      // The case number seeds gradcheck's cotangents and directions, unless the target sets its own seed.
      const opts: GradcheckOptions = { seed: index, ...target.options, atol: spec.atol ?? target.options?.atol, rtol: spec.rtol ?? target.options?.rtol }
      const fn = c.fn as (...inputs: Tensor[]) => Tensor
      const r = order === 2 ? gradgradcheck(fn, c.inputs, opts) : gradcheck(fn, c.inputs, opts)
      maxAbs = Math.max(maxAbs, r.maxAbsError)
      maxRel = Math.max(maxRel, r.maxRelError)
      if (!r.ok) failures.push({ index, label, report: formatResult(r, { name: `${target.name} [${label}]` }), result: r })
    } catch (e) {
      const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e)
      failures.push({ index, label, report: `${target.name} [${label}]: the case threw ${msg}` })
      maxAbs = Infinity
      maxRel = Infinity
    }
  }
  return { ...base, ok: failures.length === 0, cases: n, maxAbsError: maxAbs, maxRelError: maxRel, failures, ms: performance.now() - started }
}

/** The core's registered ops as targets. */
export function coreTargets(): CheckTarget[] {
  return registeredOps().map((e) => ({ name: e.name, source: 'core' as const, spec: e.spec }))
}

/**
 * The layers package's layers and losses as targets, read from its `registeredLayers()`
 * export (entries shaped like the core's registry: `{ name, spec }`). Returns a note instead
 * when the package or the export does not exist; a package that fails to load becomes one
 * failing target named `@graphgrad/layers` whose report is the load error.
 */
export async function layerTargets(): Promise<{ targets: CheckTarget[]; note: string | null }> {
  // A computed specifier keeps tsc from requiring the package (it is optional here).
  const specifier = ['@graphgrad', 'layers'].join('/')
  let mod: Record<string, unknown>
  try {
    mod = (await import(specifier)) as Record<string, unknown>
  } catch (e) {
    const code = (e as { code?: string }).code
    const missing = (code === 'ERR_MODULE_NOT_FOUND' || code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') && String((e as Error).message).includes('layers')
    if (missing) return { targets: [], note: '@graphgrad/layers could not be found; layers and losses were not checked' }
    // A package that exists but fails to load is a failure to report, not a reason to skip the core's ops.
    const failing: NoGradient | GradSpec = {
      sample: () => {
        throw e
      },
    }
    return { targets: [{ name: '@graphgrad/layers', source: 'layers', spec: failing, cases: 1 }], note: null }
  }
  const list = mod.registeredLayers
  if (typeof list !== 'function') return { targets: [], note: '@graphgrad/layers has no registeredLayers() export; layers and losses were not checked' }
  const entries = (list as () => readonly RegistryEntry[])()
  return { targets: entries.map((e) => ({ name: e.name, source: 'layers' as const, spec: e.spec })), note: null }
}
