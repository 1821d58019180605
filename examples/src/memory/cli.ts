/**
 * `pnpm start`: the long-range memory experiment. A plain RNN, an LSTM and a GRU of equal
 * parameter budget learn delayed recall and the adding problem at growing lags; the table
 * shows where each stops remembering. See `pnpm start --help`. Every failure ends with one
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
  const [{ runSweep }, { writeTextAtomic }, { sweepProblem }, { curvesSvg, summaryLines }, { TASKS }] = await Promise.all([
    import('./experiment.ts'),
    import('./files.ts'),
    import('./needs.ts'),
    import('./report.ts'),
    import('./tasks.ts'),
  ])
  const { out, help: _help, quick, ...settings } = options
  // Before anything is allocated: a sweep too large for a tensor or for this machine is refused with the estimate.
  const problem = sweepProblem(settings, machineMemoryLimit())
  if (problem !== undefined) throw new UsageError(problem)
  // Fail now, not after minutes of training, if the output folder cannot be created.
  await mkdir(out, { recursive: true }).catch((e: unknown) => {
    throw new InputError(`cannot create the output folder ${out}: ${(e as Error).message}`)
  })
  const log = (line = ''): boolean => process.stdout.write(`${line}\n`)
  log(`graphgrad memory experiment${quick ? ' (--quick)' : ''}: can a model remember across a lag?`)
  for (const t of settings.tasks) log(`  ${t.padEnd(7)} ${TASKS[t].title}`)
  log(`  models ${settings.models.join(', ')} at equal parameter budgets (LSTM hidden ${settings.hidden}); lags ${settings.lags.join(', ')}`)
  log(
    `  ${settings.steps} Adam steps (lr ${settings.lr}, batch ${settings.batchSize}, gradient norm clipped at ${settings.clip}), gate bias ${settings.gateBias}, seed ${settings.seed}`,
  )
  log(`  scored on ${settings.evalSize} held-out sequences per run; output in ${out}`)
  log()
  const results = await runSweep(settings, out, process.stdout)
  log()
  for (const line of summaryLines(results)) log(line)
  await writeTextAtomic(join(out, 'results.json'), `${JSON.stringify(results, null, 1)}\n`)
  await writeTextAtomic(join(out, 'curves.svg'), curvesSvg(results))
  log(`wrote ${join(out, 'results.json')}, ${join(out, 'curves.svg')} and ${results.runs.length} weight files in ${join(out, 'weights')}`)
  log(`total ${formatDuration(results.seconds)}`)
  return 0
}

runAsProcess('pnpm start', () => main(process.argv.slice(2)))
