/**
 * `pnpm start`: the long-range memory experiment. A plain RNN, an LSTM and a GRU of equal
 * parameter budget learn delayed recall and the adding problem at growing lags; the table
 * shows where each stops remembering. See `pnpm start --help`.
 * @module
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { runSweep } from './experiment.ts'
import { writeTextAtomic } from './files.ts'
import { UsageError, helpText } from '../shared/args.ts'
import { formatDuration } from '../shared/progress.ts'
import { type CliOptions, START_COMMAND, parseOptions } from './options.ts'
import { curvesSvg, summaryLines } from './report.ts'
import { TASKS } from './tasks.ts'

async function main(argv: readonly string[]): Promise<number> {
  let options: CliOptions
  try {
    options = parseOptions(argv)
  } catch (e) {
    if (!(e instanceof UsageError)) throw e
    process.stderr.write(`pnpm start: ${e.message}\n`)
    return 2
  }
  if (options.help) {
    process.stdout.write(helpText(START_COMMAND))
    return 0
  }
  const { out, help: _help, quick, ...settings } = options
  // Fail now, not after minutes of training, if the output folder cannot be created.
  await mkdir(out, { recursive: true }).catch((e: unknown) => {
    throw new Error(`cannot create the output folder ${out}: ${(e as Error).message}`)
  })
  const log = (line = ''): boolean => process.stdout.write(`${line}\n`)
  log(`graphgrad memory experiment${quick ? ' (--quick)' : ''}: can a model remember across a lag?`)
  for (const t of settings.tasks) log(`  ${t.padEnd(7)} ${TASKS[t].title}`)
  log(`  models ${settings.models.join(', ')} at equal parameter budgets (LSTM hidden ${settings.hidden}); lags ${settings.lags.join(', ')}`)
  log(`  ${settings.steps} Adam steps (lr ${settings.lr}, batch ${settings.batchSize}, gradient norm clipped at ${settings.clip}), gate bias ${settings.gateBias}, seed ${settings.seed}`)
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

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code },
  (e: unknown) => {
    process.stderr.write(`pnpm start: ${e instanceof Error ? e.message : String(e)}\n`)
    process.exitCode = 1
  },
)
