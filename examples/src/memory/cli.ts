/**
 * `pnpm start`: the long-range memory experiment. A plain RNN, an LSTM and a GRU of equal
 * parameter budget learn the embedded Reber grammar, delayed recall and the adding problem at
 * growing lags, each run until it meets the task's criterion or its budget runs out; the table
 * gives the training sequences each needed, beside the 1997 paper's LSTM. See `pnpm start --help`. Every failure ends with one
 * line on stderr and a non-zero exit code (see ../shared/cli.ts).
 * @module
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { UsageError, helpText } from '../shared/args.ts'
import { InputError, runAsProcess } from '../shared/cli.ts'
import { formatDuration } from '../shared/progress.ts'
import { machineMemoryLimit } from '../shared/resources.ts'
import { START_COMMAND, parseOptions } from './options.ts'

async function main(argv: readonly string[]): Promise<number> {
  const options = parseOptions(argv)
  if (options.help) {
    process.stdout.write(helpText(START_COMMAND))
    return 0
  }
  // The models load only once the options are parsed: help and typos are answered at once.
  const [{ runSweep }, { writeTextAtomic }, { sweepProblem }, { curvesSvg, solvePlot, summaryLines }, { TASKS }, { runLine }] = await Promise.all([
    import('./experiment.ts'),
    import('./files.ts'),
    import('./needs.ts'),
    import('./report.ts'),
    import('./tasks.ts'),
    import('./table.ts'),
  ])
  const { out, help: _help, quick, jobs, ...settings } = options
  // Before anything is allocated: a sweep too large for a tensor or for this machine is refused with the estimate.
  const problem = sweepProblem(settings, jobs, machineMemoryLimit())
  if (problem !== undefined) throw new UsageError(problem)
  // Fail now, not after minutes of training, if the output folder cannot be created.
  await mkdir(out, { recursive: true }).catch((e: unknown) => {
    throw new InputError(`cannot create the output folder ${out}: ${(e as Error).message}`)
  })
  const log = (line = ''): boolean => process.stdout.write(`${line}\n`)
  log(`graphgrad memory experiment${quick ? ' (--quick)' : ''}: can a model remember across a lag?`)
  for (const t of settings.tasks) log(`  ${t.padEnd(7)} ${TASKS[t].title}\n          ${TASKS[t].criterion}`)
  log(`  models ${settings.models.join(', ')} at equal parameter budgets (LSTM hidden ${settings.hidden}); lags ${settings.lags.join(', ')}`)
  log(
    `  Adam (lr ${settings.lr}, batch ${settings.batchSize}, gradient norm clipped at ${settings.clip}) until solved or ${settings.budget} training sequences`,
  )
  log(
    `  forget-gate bias ${settings.gateBias} (--gate-bias: the LSTM's forget gate and the GRU's update gate), LSTM input-gate bias ${settings.inputBias} (--input-bias)`,
  )
  log(`  ${settings.seeds} seeds per task, lag and model (sweep seed ${settings.seed}); criterion checked on ${settings.evalSize} held-out sequences`)
  log(`  ${jobs} ${jobs === 1 ? 'job' : 'jobs at once'}; output in ${out}`)
  log()
  const results = await runSweep(settings, out, jobs, (record, i, total) => log(runLine(record, i, total)))
  log()
  for (const line of summaryLines(results)) log(line)
  await writeTextAtomic(join(out, 'results.json'), `${JSON.stringify(results, null, 1)}\n`)
  await writeTextAtomic(join(out, 'solve.svg'), solvePlot(results))
  await writeTextAtomic(join(out, 'curves.svg'), curvesSvg(results))
  log(
    `wrote ${join(out, 'results.json')}, ${join(out, 'solve.svg')}, ${join(out, 'curves.svg')} and ${results.runs.length} weight files in ${join(out, 'weights')}`,
  )
  log(`total ${formatDuration(results.seconds)} (${results.jobs} ${results.jobs === 1 ? 'job' : 'jobs'})`)
  return 0
}

runAsProcess('pnpm start', () => main(process.argv.slice(2)))
