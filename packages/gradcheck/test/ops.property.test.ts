// Every registered op with a gradient: its VJP agrees with central finite differences in
// float64 on random cases drawn by its own spec (random shapes, broadcast pairs, domains that
// avoid kinks and poles), to first and (unless the spec opts out) second order. And coverage:
// every registered op has a spec, and every op the core exports is registered.
import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import * as core from '@graphgrad/core'
import { CaseSampler, type GradSpec, hasGradient, registeredOps } from '@graphgrad/core'
import { formatResult, gradcheck, gradgradcheck } from '../src/index.ts'

const ops = registeredOps()
const differentiable = ops.filter((e): e is typeof e & { spec: GradSpec } => hasGradient(e.spec))

/** Runs one random case of a spec; throws the readable report when the check fails. */
function checkCase(name: string, spec: GradSpec, seed: number, order: 1 | 2): void {
  const c = spec.sample(new CaseSampler(seed))
  const options = { atol: spec.atol, rtol: spec.rtol, seed }
  const r = order === 1 ? gradcheck(c.fn, c.inputs, options) : gradgradcheck(c.fn, c.inputs, options)
  if (!r.ok) throw new Error(formatResult(r, { name: `${name} [${c.label}] (case seed ${seed})` }))
}

const seeds = fc.integer({ min: 0, max: 0x7fffffff })

describe('every registered op: VJP vs central differences (float64)', () => {
  for (const { name, spec } of differentiable) {
    it(`${name}: first order`, () => {
      fc.assert(
        fc.property(seeds, (seed) => checkCase(name, spec, seed, 1)),
        { numRuns: 25 },
      )
    })
    if (spec.secondOrder !== false) {
      it(`${name}: second order`, () => {
        fc.assert(
          fc.property(seeds, (seed) => checkCase(name, spec, seed, 2)),
          { numRuns: 10 },
        )
      })
    }
  }
})

/**
 * Functions the core exports that are not ops, so are not in the registry. A new export
 * that is neither registered nor listed here fails the coverage test: register the op with
 * its gradient-check spec (or an explicit NoGradient), or add it here with the reason.
 */
const NOT_OPS: Readonly<Record<string, string>> = {
  Tensor: 'the tensor class',
  CaseSampler: 'draws cases for specs',
  RandomStream: 'random numbers',
  tensor: 'creation',
  intTensor: 'creation',
  zeros: 'creation',
  ones: 'creation',
  full: 'creation',
  zerosLike: 'creation',
  onesLike: 'creation',
  arange: 'creation',
  linspace: 'creation',
  eye: 'creation',
  rand: 'creation',
  uniform: 'creation',
  randn: 'creation',
  randint: 'creation',
  key: 'random keys',
  splitKey: 'random keys',
  foldIn: 'random keys',
  randperm: 'random data (an int32 permutation)',
  shuffle: 'data utilities (reorders rows)',
  batches: 'data utilities (iterates)',
  padSequences: 'data utilities (pads with pad, then stacks)',
  grad: 'transform',
  valueAndGrad: 'transform',
  vjp: 'transform',
  jvp: 'transform',
  noGrad: 'recording control',
  detectAnomaly: 'recording control',
  liveGraphNodes: 'graph statistics',
  numThreads: 'matrix products: the thread count',
  setNumThreads: 'matrix products: the thread count',
  traceGraph: 'graph export',
  stopGradient: 'cuts the gradient by definition',
  customOp: 'builds user-defined ops (checked by the user with gradcheck)',
  flattenTree: 'trees',
  mapTree: 'trees',
  flattenParams: 'trees',
  unflattenParams: 'trees',
  loadSafetensors: 'I/O',
  saveSafetensors: 'I/O',
  readSafetensorsMetadata: 'I/O',
  registeredOps: 'the registry',
  hasGradient: 'the registry',
  fmtShape: 'message formatting',
}

/** Exported names registered under another name, or under several names (one per variant). */
const REGISTERED_AS: Readonly<Record<string, readonly string[]>> = {
  variance: ['var'],
  gelu: ['gelu', 'geluTanh'],
}

describe('coverage', () => {
  it('every registered op has a gradient-check spec or an explicit reason for having none', () => {
    expect(ops.length).toBeGreaterThan(0)
    for (const e of ops) {
      const spec = e.spec as Partial<GradSpec> & { noGradient?: unknown }
      const valid = hasGradient(e.spec) ? typeof spec.sample === 'function' : typeof spec.noGradient === 'string' && spec.noGradient.length > 0
      expect(valid, `op '${e.name}' (${e.family}) has neither a sample() spec nor a noGradient reason`).toBe(true)
      expect(['primitive', 'composite']).toContain(e.kind)
    }
  })

  it('every op the core exports is registered, so nothing skips the check', () => {
    const registered = new Set(ops.map((e) => e.name))
    const unregistered = Object.entries(core)
      .filter(([, value]) => typeof value === 'function' && !(value.prototype instanceof Error))
      .map(([name]) => name)
      .filter((name) => !(name in NOT_OPS) && !(REGISTERED_AS[name] ?? [name]).every((n) => registered.has(n)))
    expect(unregistered, `exported but neither registered with a gradient-check spec nor listed in NOT_OPS: ${unregistered.join(', ')}`).toEqual([])
    // The lists themselves stay honest: every name they mention exists.
    for (const name of [...Object.keys(NOT_OPS), ...Object.keys(REGISTERED_AS)]) {
      expect(name in core, `stale entry '${name}': the core no longer exports it`).toBe(true)
    }
  })

  it('layers and losses have specs too, once @graphgrad/layers registers them', async () => {
    const { layerTargets } = await import('../src/registry-runner.ts')
    const { targets } = await layerTargets()
    // A package that exists but fails to load shows up as one failing target of this name.
    expect(targets.map((t) => t.name)).not.toContain('@graphgrad/layers')
    for (const t of targets) {
      const spec = t.spec as Partial<GradSpec> & { noGradient?: unknown }
      expect(typeof spec.sample === 'function' || typeof spec.noGradient === 'string', `layer '${t.name}' has no gradient-check spec`).toBe(true)
    }
  })
})
