// The pieces both example commands use: the option parser (with its --help) and the progress bar.
import { describe, expect, it } from 'vitest'
import { type CommandSpec, UsageError, helpText, parseArgs } from '../src/shared/args.ts'
import { ProgressBar } from '../src/shared/progress.ts'
import { InputError, Interrupted, reportFailure } from '../src/shared/cli.ts'
import { formatBytes, memoryTooLarge, tensorTooLarge } from '../src/shared/resources.ts'
import { GraphgradError } from '@graphgrad/core'

const COMMAND: CommandSpec = {
  usage: 'pnpm demo',
  summary: 'A demo command.',
  about: ['about line'],
  options: [
    { name: 'sizes', kind: 'ints', min: 2, max: 9, default: [3, 4], help: 'sizes\nsecond line' },
    { name: 'colors', kind: 'words', choices: ['red', 'blue'], default: ['red'], help: 'colors' },
    { name: 'tags', kind: 'words', help: 'any words' },
    { name: 'rate', kind: 'number', min: 0, minExclusive: true, default: 0.5, help: 'a rate' },
    { name: 'name', kind: 'string', value: 'NAME', help: 'a name' },
    { name: 'dry', kind: 'flag', help: 'only pretend' },
  ],
  notes: ['a note'],
}

/** The parsed options, failing the test on 'help'. */
function parse(...argv: string[]): Exclude<ReturnType<typeof parseArgs>, 'help'> {
  const args = parseArgs(COMMAND, argv)
  if (args === 'help') throw new Error('unexpected help')
  return args
}

describe('parseArgs', () => {
  it('parses lists of whole numbers and of words, applies defaults, and records what was typed', () => {
    const args = parse('--sizes=2,9', '--colors', 'blue, red', '--tags', 'a,b', '--dry')
    expect(args.list('sizes')).toEqual([2, 9])
    expect(args.list('colors')).toEqual(['blue', 'red'])
    expect(args.list('tags')).toEqual(['a', 'b'])
    expect(args.number('rate')).toBe(0.5)
    expect(args.string('name')).toBeUndefined()
    expect(args.flag('dry')).toBe(true)
    expect([...args.given].sort()).toEqual(['colors', 'dry', 'sizes', 'tags'])
    expect(parse().list('sizes')).toEqual([3, 4])
    expect(parseArgs(COMMAND, ['--rate', 'x', '-h'])).toBe('help')
  })

  it('names the option, what it must be and the value that is wrong', () => {
    const cases: [string[], string][] = [
      [['--sizes', '3,10'], "--sizes must list whole numbers >= 2 and <= 9, comma-separated; got '10'"],
      [['--sizes', '3,,4'], "--sizes must list whole numbers >= 2 and <= 9, comma-separated; got ''"],
      [['--sizes', '3,3'], '--sizes names 3 more than once'],
      [['--colors', 'green'], "--colors: unknown color 'green'; choose from red, blue"],
      [['--tags', 'a,,b'], '--tags: unknown empty item'],
      [['--rate', '0'], "--rate must be a number > 0, got '0'"],
      [['--name'], '--name needs a value (NAME) (see pnpm demo --help)'],
      [['--colour', 'red'], 'unknown option --colour (see pnpm demo --help)'],
    ]
    for (const [argv, message] of cases) {
      expect(() => parseArgs(COMMAND, argv), argv.join(' ')).toThrow(UsageError)
      expect(() => parseArgs(COMMAND, argv), argv.join(' ')).toThrow(message)
    }
  })

  it('--help lists every option with its default, aligned, between the about lines and the notes', () => {
    const lines = helpText(COMMAND).split('\n')
    expect(lines.slice(0, 5)).toEqual(['usage: pnpm demo [options]', '', 'A demo command.', '', 'about line'])
    expect(lines).toContain('  --sizes LIST   sizes')
    expect(lines).toContain('                 second line (default 3,4)')
    expect(lines).toContain('  --colors LIST  colors (default red)')
    expect(lines).toContain('  --dry          only pretend')
    expect(lines).toContain('  -h, --help     print this help')
    expect(lines.at(-2)).toBe('a note')
  })
})

describe('ProgressBar', () => {
  it('without a terminal: a plain line per quarter of the run, the last one with the time taken', () => {
    const plain: string[] = []
    const bar = new ProgressBar({ write: (s: string) => plain.push(s) }, { label: 'run', total: 8, scoreLabel: 'acc' })
    for (let i = 1; i <= 8; i++) bar.update({ step: i, loss: 1 / i, score: i / 8 })
    expect(plain).toHaveLength(4)
    expect(plain[3]).toMatch(/^run \[#{24}\] 8\/8 +loss 0\.1250 +acc 1\.000 .* steps\/s +took \d+s\n$/)
  })

  it('without a terminal, after a resume: a line every `every` steps counted from step 0, and log lines as they come', () => {
    const plain: string[] = []
    const bar = new ProgressBar({ write: (s: string) => plain.push(s) }, { start: 7, total: 25, every: 10 })
    for (let i = 8; i <= 25; i++) {
      bar.update({ step: i, loss: 2, score: 3 })
      if (i === 20) bar.log('validation')
    }
    expect(plain.map((l) => /\] (\d+)\/25/.exec(l)?.[1] ?? l)).toEqual(['10', '20', 'validation\n', '25'])
    // No score label: no score shown.
    expect(plain[0]).toMatch(/^\[#{10}-{14}\] 10\/25 +loss 2\.0000 +[\d.]+ steps\/s +\d+s left\n$/)
  })

  it('on a terminal: redraws in place, narrowed and cut to its width, the latest state under each log line, one newline at the end', () => {
    const tty: string[] = []
    const live = new ProgressBar({ write: (s: string) => tty.push(s), isTTY: true, columns: 40 }, { label: 'run', total: 3, scoreLabel: 'mse' })
    live.update({ step: 1, loss: 1, score: 1 })
    live.update({ step: 2, loss: 0.5, score: 1 }) // within a tenth of a second: not drawn, but remembered
    live.log('a sample')
    live.update({ step: 3, loss: 1, score: 1 })
    expect(tty[0]).toBe('\r\x1b[K' + 'run [###-----] 1/3  loss 1.0000  mse 1.000'.slice(0, 39))
    expect(tty[1]).toBe('\r\x1b[Ka sample\n' + 'run [#####---] 2/3  loss 0.5000  mse 1.000'.slice(0, 39))
    expect(tty.at(-1)).toBe('\n')
    expect(tty.at(-2)).toMatch(/^\r\x1b\[Krun \[#{8}\] 3\/3/)
    live.finish()
    expect(tty.at(-1)).toBe('\n')
    expect(tty.filter((s) => s === '\n')).toHaveLength(1)
    const wide: string[] = []
    new ProgressBar({ write: (s: string) => wide.push(s), isTTY: true, columns: 200 }, { total: 3 }).update({ step: 3, loss: 1 })
    expect(wide[0]).toMatch(/^\r\x1b\[K\[#{24}\] 3\/3  loss 1\.0000 +[\d.]+ steps\/s  took 0s$/)
  })
})

describe('how a command fails', () => {
  /** The exit code and what went to stderr, with GRAPHGRAD_DEBUG set as given. */
  async function failure(e: unknown, debug?: string): Promise<[number, string]> {
    const saved = process.env.GRAPHGRAD_DEBUG
    if (debug === undefined) delete process.env.GRAPHGRAD_DEBUG
    else process.env.GRAPHGRAD_DEBUG = debug
    try {
      let text = ''
      const code = await reportFailure(e, 'demo', { write: (t: string) => void (text += t) })
      return [code, text]
    } finally {
      if (saved === undefined) delete process.env.GRAPHGRAD_DEBUG
      else process.env.GRAPHGRAD_DEBUG = saved
    }
  }

  it('one line, and an exit code by kind: usage 2, input 1, interrupted 130, bug 70', async () => {
    expect(await failure(new UsageError('--x is wrong'))).toEqual([2, 'demo: --x is wrong\n'])
    expect(await failure(new InputError('no such file'))).toEqual([1, 'demo: no such file\n'])
    expect(await failure(new GraphgradError('shape\n  mismatch'))).toEqual([1, 'demo: shape mismatch\n'])
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' })
    expect(await failure(full)).toEqual([1, 'demo: ENOSPC: no space left on device, write\n'])
    expect(await failure(new Interrupted('interrupted at step 3'))).toEqual([130, 'demo: interrupted at step 3\n'])
  })

  it('a bug is one line without GRAPHGRAD_DEBUG, and its stack trace follows with it', async () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'x')")
    const [code, text] = await failure(bug)
    expect(code).toBe(70)
    expect(text).toBe(
      "demo: internal error, a bug in the example: TypeError: Cannot read properties of undefined (reading 'x') (set GRAPHGRAD_DEBUG=1 for the stack trace)\n",
    )
    expect(await failure('a thrown string')).toEqual([
      70,
      'demo: internal error, a bug in the example: a thrown string (set GRAPHGRAD_DEBUG=1 for the stack trace)\n',
    ])
    const [debugCode, debugText] = await failure(bug, '1')
    expect(debugCode).toBe(70)
    expect(debugText.split('\n')[0]).toBe("demo: internal error, a bug in the example: TypeError: Cannot read properties of undefined (reading 'x')")
    expect(debugText).toMatch(/^ {4}at /m)
    expect((await failure(bug, '0'))[1].split('\n')).toHaveLength(2)
  })
})

describe('resource checks', () => {
  it('formats sizes in binary units', () => {
    expect([0, 1023, 1024, 1536, 140 * 2 ** 20, 11.75 * 2 ** 30, 2 ** 50].map(formatBytes)).toEqual([
      '0 B',
      '1023 B',
      '1.0 KiB',
      '1.5 KiB',
      '140.0 MiB',
      '11.8 GiB',
      '1.0 PiB',
    ])
  })

  it('names the largest tensor past the element limit, and the parts of an estimate past the memory limit', () => {
    expect(tensorTooLarge([{ what: 'a', shape: [2, 3] }])).toBeUndefined()
    expect(
      tensorTooLarge([
        { what: 'small', shape: [2 ** 31] },
        { what: 'the big one', shape: [2 ** 20, 2 ** 12], hint: 'less' },
      ]),
    ).toBe('the big one [1048576 x 4096] would hold 4294967296 numbers, more than the 2147483647 a tensor can hold; use less')
    const limit = { bytes: 2 ** 30, why: 'a test limit' }
    expect(memoryTooLarge([{ what: 'weights', bytes: 2 ** 29 }], limit)).toBeUndefined()
    expect(
      memoryTooLarge(
        [
          { what: 'weights', bytes: 2 ** 31 },
          { what: 'crumbs', bytes: 10 },
        ],
        limit,
      ),
    ).toBe('needs about 2.1 GiB of memory (weights 2.0 GiB), more than the 1.0 GiB allowed (a test limit)')
  })
})
