/**
 * Learning-rate schedules, torch.optim.lr_scheduler's, as pure functions `(step) => lr`.
 *
 * `schedule(k)` is the learning rate torch's scheduler gives after `k` calls of
 * `scheduler.step()`, i.e. the rate of the k-th update counting from 0. Pass a schedule as an
 * optimizer's `lr` and the optimizer evaluates it at each update:
 * `adam({ lr: cosineAnnealingLR({ lr: 1e-3, tMax: 1000 }) })`.
 * Options are the schedulers' arguments in camelCase (`T_max` is `tMax`, `eta_min` is `etaMin`);
 * `lr` is the optimizer's initial learning rate. Values use torch's closed forms.
 * @module
 */
import { ArgumentError } from '@graphgrad/core'
import { type Schedule } from './options.ts'
import { checkOptionKeys } from '@graphgrad/core/internal'

/** Options of {@link stepLR}. */
export interface StepLROptions {
  /** Initial learning rate. */
  readonly lr: number
  /** Period of the decay, in steps (a positive integer). */
  readonly stepSize: number
  /** Multiplicative factor of the decay. Default 0.1. */
  readonly gamma?: number
}

/** Options of {@link multiStepLR}. */
export interface MultiStepLROptions {
  /** Initial learning rate. */
  readonly lr: number
  /** Steps at which the rate is multiplied by `gamma` (non-negative integers; a repeated one counts twice, as in torch). */
  readonly milestones: readonly number[]
  /** Multiplicative factor of the decay. Default 0.1. */
  readonly gamma?: number
}

/** Options of {@link exponentialLR}. */
export interface ExponentialLROptions {
  /** Initial learning rate. */
  readonly lr: number
  /** Multiplicative factor applied at every step. */
  readonly gamma: number
}

/** Options of {@link cosineAnnealingLR}. */
export interface CosineAnnealingLROptions {
  /** Initial (maximum) learning rate. */
  readonly lr: number
  /** Half period of the cosine, in steps (torch's `T_max`), > 0. */
  readonly tMax: number
  /** Minimum learning rate (torch's `eta_min`). Default 0. */
  readonly etaMin?: number
}

/** Options of {@link linearLR}. */
export interface LinearLROptions {
  /** Learning rate the factors multiply. */
  readonly lr: number
  /** Factor at step 0, in (0, 1]. Default 1/3. */
  readonly startFactor?: number
  /** Factor from `totalIters` on, in [0, 1]. Default 1. */
  readonly endFactor?: number
  /** Number of steps over which the factor moves, a positive integer. Default 5. */
  readonly totalIters?: number
}

/** Options of {@link oneCycleLR}. */
export interface OneCycleLROptions {
  /** The optimizer's learning rate: ignored, as torch's OneCycleLR ignores it (the cycle starts at `maxLr / divFactor`). */
  readonly lr?: number
  /** Peak learning rate. */
  readonly maxLr: number
  /** Number of steps in the cycle; or give `epochs` and `stepsPerEpoch`. */
  readonly totalSteps?: number
  /** With `stepsPerEpoch`, the cycle has `epochs * stepsPerEpoch` steps. */
  readonly epochs?: number
  /** With `epochs`, the cycle has `epochs * stepsPerEpoch` steps. */
  readonly stepsPerEpoch?: number
  /** Fraction of the cycle spent increasing the rate, in [0, 1]. Default 0.3. */
  readonly pctStart?: number
  /** Annealing shape. Default `'cos'`. */
  readonly annealStrategy?: 'cos' | 'linear'
  /** Whether the momentum cycles inversely to the rate (see {@link OneCycleSchedule.momentum}). Default true. */
  readonly cycleMomentum?: boolean
  /** Lowest momentum, reached at the peak rate. Default 0.85. */
  readonly baseMomentum?: number
  /** Highest momentum, at the start and end of the cycle. Default 0.95. */
  readonly maxMomentum?: number
  /** Initial rate is `maxLr / divFactor`. Default 25. */
  readonly divFactor?: number
  /** Final rate is `maxLr / divFactor / finalDivFactor`. Default 1e4. */
  readonly finalDivFactor?: number
  /** Use torch's three-phase variant (up, down to the initial rate, then annihilation). Default false. */
  readonly threePhase?: boolean
}

/**
 * The one-cycle learning-rate schedule, with the momentum schedule that goes with it:
 * feed `momentum` to SGD's or RMSprop's `momentum`, or to `betas[0]` of the Adam family.
 */
export interface OneCycleSchedule {
  /** The learning rate of the k-th update. */
  (step: number): number
  /** The momentum of the k-th update (torch cycles SGD's `momentum` or Adam's β1); null when `cycleMomentum` is false. */
  readonly momentum: Schedule | null
}

/** Options of {@link sequentialLR}. */
export interface SequentialLROptions {
  /** The schedules, one more than the milestones. */
  readonly schedules: readonly Schedule[]
  /** Steps at which the next schedule takes over, increasing positive integers. */
  readonly milestones: readonly number[]
}

function checkOptions(options: object, known: readonly string[], where: string): void {
  if (typeof options !== 'object' || options === null) fail(where, `options must be an object, got ${String(options)}`)
  checkOptionKeys(options, known, where)
}

function fail(where: string, message: string): never {
  throw new ArgumentError(`${where}: ${message}`)
}

function finite(where: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(where, `${name} must be a finite number, got ${String(v)}`)
  return v
}

function nonNegative(where: string, name: string, v: unknown): number {
  if (finite(where, name, v) < 0) fail(where, `${name} must be >= 0, got ${String(v)}`)
  return v as number
}

function positiveInt(where: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) fail(where, `${name} must be a positive integer, got ${String(v)}`)
  return v
}

/** Wraps `f` so that the step is checked to be a non-negative integer. */
function schedule(where: string, f: (k: number) => number): Schedule {
  return (k: number): number => {
    if (typeof k !== 'number' || !Number.isSafeInteger(k) || k < 0) fail(where, `step must be a non-negative integer, got ${String(k)}`)
    return f(k)
  }
}

/**
 * torch's StepLR: `lr * gamma^floor(k / stepSize)`.
 * @example stepLR({ lr: 0.1, stepSize: 30, gamma: 0.1 })
 */
export function stepLR(options: StepLROptions): Schedule {
  const where = 'stepLR'
  checkOptions(options, ['lr', 'stepSize', 'gamma'], where)
  const lr = nonNegative(where, 'lr', options.lr)
  const stepSize = positiveInt(where, 'stepSize', options.stepSize)
  const gamma = finite(where, 'gamma', options.gamma ?? 0.1)
  return schedule(where, (k) => lr * gamma ** Math.floor(k / stepSize))
}

/** torch's MultiStepLR: `lr * gamma^(number of milestones <= k)`. */
export function multiStepLR(options: MultiStepLROptions): Schedule {
  const where = 'multiStepLR'
  checkOptions(options, ['lr', 'milestones', 'gamma'], where)
  const lr = nonNegative(where, 'lr', options.lr)
  if (!Array.isArray(options.milestones)) fail(where, `milestones must be an array of steps, got ${String(options.milestones)}`)
  const milestones = options.milestones.map((m, i) => {
    if (!Number.isSafeInteger(m) || m < 0) fail(where, `milestones[${i}] must be a non-negative integer, got ${String(m)}`)
    return m
  })
  const gamma = finite(where, 'gamma', options.gamma ?? 0.1)
  return schedule(where, (k) => lr * gamma ** milestones.filter((m) => m <= k).length)
}

/** torch's ExponentialLR: `lr * gamma^k`. */
export function exponentialLR(options: ExponentialLROptions): Schedule {
  const where = 'exponentialLR'
  checkOptions(options, ['lr', 'gamma'], where)
  const lr = nonNegative(where, 'lr', options.lr)
  const gamma = finite(where, 'gamma', options.gamma)
  return schedule(where, (k) => lr * gamma ** k)
}

/**
 * torch's CosineAnnealingLR (without restarts): `etaMin + (lr - etaMin)(1 + cos(pi k / tMax)) / 2`.
 * Past `tMax` it keeps following the cosine, rising again, as torch's recursive form does.
 */
export function cosineAnnealingLR(options: CosineAnnealingLROptions): Schedule {
  const where = 'cosineAnnealingLR'
  checkOptions(options, ['lr', 'tMax', 'etaMin'], where)
  const lr = nonNegative(where, 'lr', options.lr)
  const tMax = finite(where, 'tMax', options.tMax)
  if (tMax <= 0) fail(where, `tMax must be > 0, got ${tMax}`)
  const etaMin = finite(where, 'etaMin', options.etaMin ?? 0)
  return schedule(where, (k) => etaMin + ((lr - etaMin) * (1 + Math.cos((Math.PI * k) / tMax))) / 2)
}

/**
 * torch's LinearLR: the factor moves linearly from `startFactor` to `endFactor` over
 * `totalIters` steps, then stays: `lr * (s + (e - s) * min(k, totalIters) / totalIters)`.
 * A warmup: `linearLR({ lr, startFactor: 0.01, totalIters: 100 })`.
 */
export function linearLR(options: LinearLROptions): Schedule {
  const where = 'linearLR'
  checkOptions(options, ['lr', 'startFactor', 'endFactor', 'totalIters'], where)
  const lr = nonNegative(where, 'lr', options.lr)
  const start = finite(where, 'startFactor', options.startFactor ?? 1 / 3)
  const end = finite(where, 'endFactor', options.endFactor ?? 1)
  if (!(start > 0 && start <= 1)) fail(where, `startFactor must be in (0, 1], got ${start}`)
  if (!(end >= 0 && end <= 1)) fail(where, `endFactor must be in [0, 1], got ${end}`)
  const total = positiveInt(where, 'totalIters', options.totalIters ?? 5)
  return schedule(where, (k) => lr * (start + ((end - start) * Math.min(k, total)) / total))
}

interface Phase {
  readonly end: number
  readonly lr: readonly [number, number]
  readonly momentum: readonly [number, number]
}

/**
 * torch's OneCycleLR: the rate rises from `maxLr / divFactor` to `maxLr` over the first
 * `pctStart` of the cycle, then falls to `maxLr / divFactor / finalDivFactor` (with
 * `threePhase`, it first falls back to the initial rate, then to the final one). The
 * momentum schedule, `.momentum`, moves the opposite way between `maxMomentum` and
 * `baseMomentum`. Steps past `totalSteps` are an error, as in torch.
 * @example
 * const lr = oneCycleLR({ maxLr: 0.5, totalSteps: 1000 })
 * const opt = sgd({ lr, momentum: lr.momentum ?? 0.9 })
 */
export function oneCycleLR(options: OneCycleLROptions): OneCycleSchedule {
  const where = 'oneCycleLR'
  checkOptions(
    options,
    [
      'lr',
      'maxLr',
      'totalSteps',
      'epochs',
      'stepsPerEpoch',
      'pctStart',
      'annealStrategy',
      'cycleMomentum',
      'baseMomentum',
      'maxMomentum',
      'divFactor',
      'finalDivFactor',
      'threePhase',
    ],
    where,
  )
  const maxLr = nonNegative(where, 'maxLr', options.maxLr)
  let total: number
  if (options.totalSteps !== undefined) total = positiveInt(where, 'totalSteps', options.totalSteps)
  else if (options.epochs !== undefined && options.stepsPerEpoch !== undefined) {
    total = positiveInt(where, 'epochs', options.epochs) * positiveInt(where, 'stepsPerEpoch', options.stepsPerEpoch)
  } else fail(where, 'give either totalSteps or both epochs and stepsPerEpoch')
  const pct = finite(where, 'pctStart', options.pctStart ?? 0.3)
  if (pct < 0 || pct > 1) fail(where, `pctStart must be in [0, 1], got ${pct}`)
  const strategy = options.annealStrategy ?? 'cos'
  if (strategy !== 'cos' && strategy !== 'linear') fail(where, `annealStrategy must be 'cos' or 'linear', got ${String(strategy)}`)
  const baseM = finite(where, 'baseMomentum', options.baseMomentum ?? 0.85)
  const maxM = finite(where, 'maxMomentum', options.maxMomentum ?? 0.95)
  const initial = maxLr / finite(where, 'divFactor', options.divFactor ?? 25)
  const min = initial / finite(where, 'finalDivFactor', options.finalDivFactor ?? 1e4)
  const phases: Phase[] =
    options.threePhase === true
      ? [
          { end: pct * total - 1, lr: [initial, maxLr], momentum: [maxM, baseM] },
          { end: 2 * pct * total - 2, lr: [maxLr, initial], momentum: [baseM, maxM] },
          { end: total - 1, lr: [initial, min], momentum: [maxM, maxM] },
        ]
      : [
          { end: pct * total - 1, lr: [initial, maxLr], momentum: [maxM, baseM] },
          { end: total - 1, lr: [maxLr, min], momentum: [baseM, maxM] },
        ]
  const anneal =
    strategy === 'cos'
      ? (a: number, b: number, t: number): number => b + ((a - b) / 2) * (Math.cos(Math.PI * t) + 1)
      : (a: number, b: number, t: number): number => (b - a) * t + a
  const at = (k: number, which: 'lr' | 'momentum'): number => {
    if (k > total) fail(where, `step ${k} is past the end of the cycle (totalSteps ${total})`)
    let start = 0
    for (let i = 0; i < phases.length; i++) {
      const phase = phases[i]
      if (k <= phase.end || i === phases.length - 1) {
        if (phase.end === start) fail(where, `phase ${i + 1} of the cycle has no steps (pctStart ${pct} with totalSteps ${total})`)
        const [a, b] = phase[which]
        return anneal(a, b, (k - start) / (phase.end - start))
      }
      start = phase.end
    }
    return NaN // unreachable: the last phase always matches
  }
  at(0, 'lr')
  const lr = schedule(where, (k) => at(k, 'lr'))
  const momentum = options.cycleMomentum === false ? null : schedule(where, (k) => at(k, 'momentum'))
  return Object.assign(lr, { momentum })
}

/**
 * Chains schedules, as torch's SequentialLR: `schedules[0]` runs until `milestones[0]`, then
 * `schedules[1]` starts again from its own step 0, and so on. Warmup then cosine:
 * @example
 * sequentialLR({
 *   schedules: [linearLR({ lr: 0.1, startFactor: 0.01, totalIters: 10 }), cosineAnnealingLR({ lr: 0.1, tMax: 90 })],
 *   milestones: [10],
 * })
 */
export function sequentialLR(options: SequentialLROptions): Schedule {
  const where = 'sequentialLR'
  checkOptions(options, ['schedules', 'milestones'], where)
  const { schedules, milestones } = options
  if (!Array.isArray(schedules) || !schedules.every((s) => typeof s === 'function')) fail(where, 'schedules must be an array of functions (step) => lr')
  if (!Array.isArray(milestones) || milestones.length !== schedules.length - 1) {
    fail(
      where,
      `needs one milestone fewer than schedules, got ${schedules.length} schedules and ${Array.isArray(milestones) ? milestones.length : String(milestones)} milestones`,
    )
  }
  milestones.forEach((m, i) => {
    if (!Number.isSafeInteger(m) || m <= 0 || (i > 0 && m <= milestones[i - 1]))
      fail(where, `milestones must be increasing positive integers, got [${milestones.join(', ')}]`)
  })
  return schedule(where, (k) => {
    let i = 0
    while (i < milestones.length && k >= milestones[i]) i++
    return schedules[i](i === 0 ? k : k - milestones[i - 1])
  })
}
