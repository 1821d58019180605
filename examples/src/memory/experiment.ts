/**
 * The sweep: every task at every lag with every model and seed, one training run each.
 * The runs are independent (run.ts), so they run in `jobs` child processes at once, the
 * ready run with the most work behind it first (see `priority`); each run's numbers and weights are those it gives on its own, so
 * the results do not depend on `jobs` (a test checks it). With one job they run in this process.
 *
 * Unless `settings.allLags` is set, a seed of a model that did not solve a task at one lag is not run
 * at the task's longer lags (its record says after which lag): the longer lag is the harder
 * task, and a failed run costs its whole budget. Which runs are skipped depends only on the
 * runs' own results, so it too is the same for any `jobs`.
 * @module
 */
import { type ChildProcess, fork } from 'node:child_process'
import { InputError } from '../shared/cli.ts'
import { modelsForBudget } from './models.ts'
import { RESULTS_FORMAT, type RunRecord, type SweepResults, type SweepSettings } from './results.ts'
import { type RunSpec, runOne, sweepRuns } from './run.ts'
import { TASKS } from './tasks.ts'

/** What a worker sends back: a run's record, or the error that ended it. */
export type WorkerReply = { readonly record: RunRecord } | { readonly error: { readonly name: string; readonly message: string } }

/** What the parent sends a worker: the sweep's settings, one run, the output folder. */
export interface WorkerRequest {
  /** The sweep's settings. */
  readonly settings: SweepSettings
  /** The run to do. */
  readonly spec: RunSpec
  /** Where its weights go. */
  readonly out: string
}

/** Called as each run ends (in the order they end), with its place in the table and the number of runs. */
export type RunListener = (record: RunRecord, index: number, total: number) => void

/** A rough cost of a run, to start the longest first: its sequence length, doubled for the RNN (which tends to spend its whole budget). */
function cost(spec: RunSpec): number {
  return TASKS[spec.task].sequenceLength(spec.lag ?? 0) * (spec.model === 'rnn' ? 2 : 1)
}

/** Starts a worker process running worker.ts from the sources (tsx), as this process does. */
function startWorker(): ChildProcess {
  return fork(new URL('./worker.ts', import.meta.url), [], {
    execArgv: ['--conditions=@graphgrad/source', '--import', import.meta.resolve('tsx')],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  })
}

/** Sends one run to a worker and waits for its record. */
function runIn(worker: ChildProcess, request: WorkerRequest): Promise<RunRecord> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null, signal: string | null): void => {
      reject(new Error(`the worker process running ${request.spec.task} ${request.spec.model} ended (${signal ?? `exit code ${code}`})`))
    }
    worker.once('exit', onExit)
    worker.once('message', (reply: WorkerReply) => {
      worker.off('exit', onExit)
      if ('record' in reply) resolve(reply.record)
      else reject(reply.error.name === 'InputError' ? new InputError(reply.error.message) : new Error(reply.error.message))
    })
    worker.send(request)
  })
}

/** The record of a run not made because the same seed did not solve the task at the shorter lag `after`. */
function skipped(settings: SweepSettings, spec: RunSpec, after: number): RunRecord {
  const task = TASKS[spec.task]
  const [model] = modelsForBudget([spec.model], task.inputSize, task.outputSize, settings.hidden)
  return {
    ...spec,
    hidden: model.hidden,
    parameters: model.parameters,
    notRunAfter: after,
    solvedAt: null,
    sequences: 0,
    heldOut: null,
    chance: task.chance,
    chanceLoss: task.chanceLoss,
    checks: 0,
    seconds: 0,
    curve: [],
    weights: null,
  }
}

/** Runs the sweep in `jobs` processes (1: in this one), writing weights under `out`. */
export async function runSweep(settings: SweepSettings, out: string, jobs: number, onRun?: RunListener): Promise<SweepResults> {
  const started = performance.now()
  const specs = sweepRuns(settings)
  const records: RunRecord[] = new Array<RunRecord>(specs.length)
  // Each run's successor: the same task, model and seed at the next longer lag.
  const chain = (s: RunSpec): string => `${s.task}/${s.model}/${s.seed}`
  const next = new Map<number, number>()
  const hasPrevious = new Set<number>()
  if (!settings.allLags) {
    const byChain = new Map<string, number[]>()
    specs.forEach((s, i) => {
      if (s.lag !== null) byChain.set(chain(s), [...(byChain.get(chain(s)) ?? []), i])
    })
    for (const ids of byChain.values()) {
      ids.sort((a, b) => (specs[a].lag ?? 0) - (specs[b].lag ?? 0))
      for (let k = 1; k < ids.length; k++) {
        next.set(ids[k - 1], ids[k])
        hasPrevious.add(ids[k])
      }
    }
  }
  // A run's priority is the cost of its chain from it on: a cheap short lag that leads to long ones starts early.
  const priority = (i: number): number => cost(specs[i]) + (next.has(i) ? priority(next.get(i) as number) : 0)
  const ready = specs.map((_, i) => i).filter((i) => !hasPrevious.has(i))
  const used = Math.max(1, Math.min(jobs, specs.length))
  const workers = used === 1 ? [] : Array.from({ length: used }, startWorker)
  const execute = (slot: number, i: number): Promise<RunRecord> =>
    used === 1 ? runOne(settings, specs[i], out) : runIn(workers[slot], { settings, spec: specs[i], out })
  const finish = (record: RunRecord, i: number): void => {
    records[i] = record
    onRun?.(record, i, specs.length)
    const after = next.get(i)
    if (after === undefined) return
    if (record.solvedAt !== null) ready.push(after)
    else finish(skipped(settings, specs[after], record.notRunAfter ?? (specs[i].lag as number)), after)
  }
  try {
    await new Promise<void>((resolve, reject) => {
      let running = 0
      let failed = false
      const idle = Array.from({ length: used }, (_, slot) => slot)
      const dispatch = (): void => {
        if (failed) return
        if (running === 0 && ready.length === 0) return resolve()
        while (idle.length > 0 && ready.length > 0) {
          ready.sort((a, b) => priority(b) - priority(a) || a - b)
          const i = ready.shift() as number
          const slot = idle.shift() as number
          running++
          execute(slot, i).then(
            (record) => {
              running--
              idle.push(slot)
              finish(record, i)
              dispatch()
            },
            (e: unknown) => {
              failed = true
              reject(e)
            },
          )
        }
      }
      dispatch()
    })
  } finally {
    for (const w of workers) w.kill()
  }
  return { format: RESULTS_FORMAT, settings, jobs: used, runs: records, seconds: (performance.now() - started) / 1000 }
}
