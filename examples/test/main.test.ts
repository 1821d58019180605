// The main job runs end to end and actually learns: the loss falls well below chance.
import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'

const root = new URL('../../', import.meta.url).pathname

describe('pnpm start (the character LSTM)', () => {
  it('trains: the loss after 50 truncated-BPTT steps is far below ln(vocabulary)', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'examples/src/main.ts'], {
      cwd: root,
      env: { ...process.env, STEPS: '50' },
      encoding: 'utf8',
    })
    const losses = [...out.matchAll(/^step +(\d+) +loss ([\d.]+)/gm)].map((m) => Number(m[2]))
    const chance = Number(/= ([\d.]+) nats per character/.exec(out)?.[1])
    expect(losses.length).toBeGreaterThanOrEqual(3)
    expect(losses[0]).toBeCloseTo(chance, 1)
    expect(losses[losses.length - 1]).toBeLessThan(0.5 * chance)
    expect(out).toMatch(/^sample: "the lstm .{100,}"$/m)
  })
  it('is reproducible: two runs print the same numbers', () => {
    const run = (): string =>
      execFileSync(process.execPath, ['--import', 'tsx', 'examples/src/main.ts'], { cwd: root, env: { ...process.env, STEPS: '5' }, encoding: 'utf8' })
        .replace(/\d+ ms\/step/g, '')
    expect(run()).toBe(run())
  })
})
