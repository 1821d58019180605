/**
 * A benchmark run as a file (`pnpm bench --save FILE`): the machine it ran on, when, how loaded,
 * and every outcome, so that the figures in the README and on the performance page are
 * regenerated from one run (`docs-figures.ts`) instead of being copied by hand.
 * @module
 */
import { spawnSync } from 'node:child_process'
import { renameSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg } from 'node:os'
import type { BenchOutcome } from './result.ts'
import { torchEnv, torchPython } from './impls/torch-python.ts'

/** Where and when a run happened. */
export interface MachineRecord {
  /** ISO time the run started. */
  readonly started: string
  /** ISO time the run ended. */
  readonly ended: string
  /** `process.version`. */
  readonly node: string
  /** The first CPU's model name, as the OS reports it. */
  readonly cpu: string
  /** `os.availableParallelism()`. */
  readonly cores: number
  /** One-minute load averages at the start and at the end (other work on the machine shows up here). */
  readonly load: readonly [number, number]
  /** PyTorch's version when a torch implementation ran, else null. */
  readonly torch: string | null
}

/** A saved run. */
export interface RunRecord {
  /** The command line's arguments after `pnpm bench`. */
  readonly argv: readonly string[]
  /** The machine. */
  readonly machine: MachineRecord
  /** Every measurement, in table order. */
  readonly outcomes: readonly BenchOutcome[]
}

/** The machine's description at the start of a run; `finish` completes it at the end. */
export function startMachineRecord(): { finish(torchRan: boolean): MachineRecord } {
  const started = new Date().toISOString()
  const loadStart = loadavg()[0]
  return {
    finish(torchRan) {
      let torch: string | null = null
      if (torchRan) {
        const r = spawnSync(torchPython(), ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 120_000, env: torchEnv(1) })
        torch = r.status === 0 ? r.stdout.trim() : null
      }
      const round = (x: number): number => Math.round(x * 100) / 100
      return {
        started,
        ended: new Date().toISOString(),
        node: process.version,
        cpu: cpus()[0]?.model.trim() ?? 'unknown',
        cores: availableParallelism(),
        load: [round(loadStart), round(loadavg()[0])],
        torch,
      }
    },
  }
}

/** Writes `record` to `file` atomically (a temporary file beside it, then a rename). */
export function saveRunRecord(file: string, record: RunRecord): void {
  const tmp = `${file}.${process.pid}.tmp`
  writeFileSync(tmp, `${JSON.stringify(record, null, 1)}\n`)
  renameSync(tmp, file)
}
