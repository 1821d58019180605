/**
 * `pnpm seq2seq`: written-out dates to ISO dates, an LSTM encoder-decoder with Luong attention
 * beside a transformer of about the same size, scored by exact match on held-out dates. See
 * `pnpm seq2seq --help`. Every failure ends with one line on stderr and a non-zero exit code
 * (see ../shared/cli.ts).
 * @module
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { helpText } from '../shared/args.ts'
import { InputError, runAsProcess } from '../shared/cli.ts'
import { formatDuration } from '../shared/progress.ts'
import { SEQ2SEQ_COMMAND, parseOptions } from './options.ts'

async function main(argv: readonly string[]): Promise<number> {
  const options = parseOptions(argv)
  if (options.help) {
    process.stdout.write(helpText(SEQ2SEQ_COMMAND))
    return 0
  }
  // The models load only once the options are parsed: help and typos are answered at once.
  const [{ runExperiment }, { formatTable, summaryLines }, { heatMapSvg }, { writeFileAtomic }] = await Promise.all([
    import('./experiment.ts'),
    import('./report.ts'),
    import('./heatmap.ts'),
    import('@graphgrad/core/node'),
  ])
  const { out, help: _help, quick, ...settings } = options
  // Fail now, not after minutes of training, if the output folder cannot be created.
  await mkdir(out, { recursive: true }).catch((e: unknown) => {
    throw new InputError(`cannot create the output folder ${out}: ${(e as Error).message}`)
  })
  const log = (line = ''): boolean => process.stdout.write(`${line}\n`)
  log(`graphgrad seq2seq${quick ? ' (--quick)' : ''}: written-out dates to ISO dates ("third of december 2026" -> 2026-12-03)`)
  log(
    `  ${settings.train} training and ${settings.heldOut} held-out examples (disjoint dates, seed ${settings.seed}); models ${settings.models.join(', ')} at the LSTM's budget (hidden ${settings.hidden})`,
  )
  log(
    `  ${settings.epochs} epochs of batches of ${settings.batchSize}, Adam (lr ${settings.lr}, cosine to a tenth), gradient norm clipped at ${settings.clip}; beam width ${settings.beam}`,
  )
  log()
  const { results, heatMap } = runExperiment(settings, process.stdout)
  log()
  for (const line of formatTable(results.runs)) log(line)
  log()
  for (const line of summaryLines(results)) log(line)
  const write = async (name: string, text: string): Promise<string> => {
    const path = join(out, name)
    await writeFileAtomic(path, text).catch((e: unknown) => {
      throw new InputError(`could not write ${path}: ${(e as Error).message}`)
    })
    return path
  }
  const written = [await write('results.json', `${JSON.stringify(results, null, 1)}\n`)]
  if (heatMap !== undefined) written.push(await write('attention.svg', heatMapSvg(heatMap)))
  log()
  log(`wrote ${written.join(' and ')}`)
  log(`total ${formatDuration(results.seconds)}`)
  return 0
}

runAsProcess('pnpm seq2seq', () => main(process.argv.slice(2)))
