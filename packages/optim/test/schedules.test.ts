import { describe, expect, it } from 'vitest'
import { ArgumentError } from '@graphgrad/core'
import { cosineAnnealingLR, exponentialLR, linearLR, multiStepLR, oneCycleLR, sequentialLR, stepLR } from '../src/index.ts'

const range = (n: number): number[] => Array.from({ length: n }, (_, k) => k)

describe('schedules', () => {
  it('stepLR and multiStepLR (repeated milestones count twice, as torch Counter)', () => {
    expect(range(7).map(stepLR({ lr: 1, stepSize: 3 }))).toEqual([1, 1, 1, 0.1, 0.1, 0.1, 0.1 ** 2])
    const m = multiStepLR({ lr: 2, milestones: [4, 2, 4], gamma: 0.5 })
    expect(range(6).map(m)).toEqual([2, 2, 1, 1, 0.25, 0.25])
  })

  it('exponentialLR and cosineAnnealingLR', () => {
    expect(exponentialLR({ lr: 1, gamma: 0.5 })(3)).toBe(0.125)
    const cos = cosineAnnealingLR({ lr: 1, tMax: 4, etaMin: 0.2 })
    expect(cos(0)).toBe(1)
    expect(cos(2)).toBeCloseTo(0.6, 15)
    expect(cos(4)).toBeCloseTo(0.2, 15)
    expect(cos(6)).toBeCloseTo(0.6, 15) // past tMax the cosine rises again, as torch's recursive form
  })

  it('linearLR warms up then stays', () => {
    const lin = linearLR({ lr: 0.1, startFactor: 0.5, totalIters: 2 })
    expect(range(4).map(lin)).toEqual([0.05, 0.1 * 0.75, 0.1, 0.1])
    expect(linearLR({ lr: 3 })(0)).toBeCloseTo(1, 15) // torch's default start factor 1/3
  })

  it('sequentialLR chains a warmup and a cosine, each from its own step 0', () => {
    const warm = linearLR({ lr: 0.1, startFactor: 0.01, totalIters: 5 })
    const cos = cosineAnnealingLR({ lr: 0.1, tMax: 20 })
    const s = sequentialLR({ schedules: [warm, cos], milestones: [5] })
    for (const k of range(5)) expect(s(k)).toBe(warm(k))
    for (const k of range(20)) expect(s(5 + k)).toBe(cos(k))
    const three = sequentialLR({ schedules: [() => 1, () => 2, (k) => 3 + k], milestones: [2, 4] })
    expect(range(6).map(three)).toEqual([1, 1, 2, 2, 3, 4])
  })

  it('oneCycleLR from epochs and stepsPerEpoch, its momentum, and its end', () => {
    const a = oneCycleLR({ maxLr: 1, totalSteps: 20 })
    const b = oneCycleLR({ maxLr: 1, epochs: 4, stepsPerEpoch: 5, lr: 123 })
    expect(range(21).map(b)).toEqual(range(21).map(a))
    expect(a(0)).toBeCloseTo(1 / 25, 15)
    expect(a(19)).toBeCloseTo(1 / 25 / 1e4, 15)
    expect(a.momentum?.(0)).toBe(0.95)
    expect(a.momentum?.(5)).toBeCloseTo(0.85, 15) // peak lr at pctStart * 20 - 1 = 5
    expect(oneCycleLR({ maxLr: 1, totalSteps: 20, cycleMomentum: false }).momentum).toBeNull()
    expect(() => a(21)).toThrow(/oneCycleLR: step 21 is past the end of the cycle \(totalSteps 20\)/)
  })

  it('validates options and steps, naming them', () => {
    const cases: [() => unknown, RegExp][] = [
      [() => stepLR({ lr: 0.1, stepSize: 0 }), /stepLR: stepSize must be a positive integer, got 0/],
      [() => stepLR({ lr: -1, stepSize: 1 }), /stepLR: lr must be >= 0/],
      [() => multiStepLR({ lr: 0.1, milestones: [1, -2] }), /multiStepLR: milestones\[1\] must be a non-negative integer/],
      [() => exponentialLR({ lr: 0.1, gamma: NaN }), /exponentialLR: gamma must be a finite number/],
      [() => cosineAnnealingLR({ lr: 0.1, tMax: 0 }), /cosineAnnealingLR: tMax must be > 0/],
      [() => linearLR({ lr: 0.1, startFactor: 0 }), /linearLR: startFactor must be in \(0, 1\]/],
      [() => linearLR({ lr: 0.1, endFactor: 1.5 }), /linearLR: endFactor must be in \[0, 1\]/],
      [() => linearLR({ lr: 0.1, totalIters: 2.5 }), /linearLR: totalIters must be a positive integer/],
      [() => oneCycleLR({ maxLr: 1 }), /oneCycleLR: give either totalSteps or both epochs and stepsPerEpoch/],
      [() => oneCycleLR({ maxLr: 1, totalSteps: 10, pctStart: 1.5 }), /oneCycleLR: pctStart must be in \[0, 1\]/],
      [() => oneCycleLR({ maxLr: 1, totalSteps: 10, annealStrategy: 'exp' as never }), /annealStrategy must be 'cos' or 'linear'/],
      [() => oneCycleLR({ maxLr: 1, totalSteps: 10, pctStart: 0.1 }), /oneCycleLR: phase 1 of the cycle has no steps/],
      [() => sequentialLR({ schedules: [() => 1], milestones: [3] }), /sequentialLR: needs one milestone fewer than schedules/],
      [() => sequentialLR({ schedules: [() => 1, () => 2, () => 3], milestones: [4, 4] }), /milestones must be increasing positive integers/],
      [() => stepLR({ lr: 0.1, step_size: 2 } as never), /stepLR: unknown option 'step_size' \(did you mean 'stepSize'\?\)/],
      [() => cosineAnnealingLR({ lr: 0.1, T_max: 2 } as never), /cosineAnnealingLR: unknown option 'T_max' \(did you mean 'tMax'\?\)/],
      [() => stepLR({ lr: 0.1, stepSize: 2 })(-1), /stepLR: step must be a non-negative integer, got -1/],
      [() => cosineAnnealingLR({ lr: 0.1, tMax: 2 })(0.5), /step must be a non-negative integer, got 0.5/],
    ]
    for (const [fn, message] of cases) {
      expect(fn).toThrow(ArgumentError)
      expect(fn).toThrow(message)
    }
  })
})
