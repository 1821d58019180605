/**
 * The task: dates written out in many ways ("third of december 2026", "december 3rd, 2026",
 * "3 dec 2026", "the 3rd of december, two thousand twenty-six", ...) to translate into ISO
 * dates ("2026-12-03"). Every date from 1900-01-01 to 2099-12-31 can appear; the held-out
 * dates are disjoint from the training dates (a seeded permutation of all dates is cut in
 * two), so the model is scored on dates it never saw in any form. Every draw is from the seed.
 * @module
 */
import { RandomStream, type Seed, foldIn, randperm } from '@graphgrad/core'

/** A day of the Gregorian calendar. */
export interface CalendarDate {
  /** The year, 1900 to 2099. */
  readonly year: number
  /** The month, 1 (January) to 12. */
  readonly month: number
  /** The day of the month, from 1. */
  readonly day: number
}

/** One example of the task: a date, how it is written, and its ISO form. */
export interface Example {
  /** The date. */
  readonly date: CalendarDate
  /** The surface form it is written in (a key of {@link FORMATS}). */
  readonly format: FormatName
  /** The written-out date, the model's input. */
  readonly source: string
  /** `YYYY-MM-DD`, the model's output. */
  readonly target: string
}

/** The first and last year of the task. */
const YEARS = { first: 1900, last: 2099 } as const

/** Month names, January first. */
export const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'] as const
/** Three-letter month abbreviations. */
export const MONTH_ABBREVIATIONS = MONTHS.map((m) => m.slice(0, 3))

/** Number words below twenty. */
export const ONES = [
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'eleven',
  'twelve',
  'thirteen',
  'fourteen',
  'fifteen',
  'sixteen',
  'seventeen',
  'eighteen',
  'nineteen',
] as const
/** Tens words (index = tens digit). */
export const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'] as const
/** Ordinal words below twenty (index 0 unused). */
export const ORDINALS = [
  '',
  'first',
  'second',
  'third',
  'fourth',
  'fifth',
  'sixth',
  'seventh',
  'eighth',
  'ninth',
  'tenth',
  'eleventh',
  'twelfth',
  'thirteenth',
  'fourteenth',
  'fifteenth',
  'sixteenth',
  'seventeenth',
  'eighteenth',
  'nineteenth',
] as const
/** The other words a date may be written with. */
export const FILLER_WORDS = ['the', 'of', 'oh', 'and', 'hundred', 'thousand', 'twentieth', 'thirtieth', 'st', 'nd', 'rd', 'th'] as const

/** 0 to 99 in words: `twenty-six`. */
function cardinal(n: number): string {
  if (n < 20) return ONES[n]
  return n % 10 === 0 ? TENS[n / 10] : `${TENS[Math.floor(n / 10)]}-${ONES[n % 10]}`
}

/** A day of the month as an ordinal word: `third`, `twenty-first`, `thirtieth`. */
export function ordinalWords(day: number): string {
  if (day < 20) return ORDINALS[day]
  if (day % 10 === 0) return day === 20 ? 'twentieth' : 'thirtieth'
  return `${TENS[Math.floor(day / 10)]}-${ORDINALS[day % 10]}`
}

/** A day of the month as a number with its suffix: `1st`, `3rd`, `11th`, `22nd`. */
export function ordinalDigits(day: number): string {
  const teen = day % 100 >= 11 && day % 100 <= 13
  const suffix = teen ? 'th' : (['th', 'st', 'nd', 'rd'][day % 10] ?? 'th')
  return `${day}${suffix}`
}

/**
 * A year in words. `style` 0 is the usual reading (`nineteen oh five`, `nineteen ninety-nine`,
 * `two thousand`, `two thousand twenty-six`); style 1 reads 2001-2099 in pairs (`twenty
 * twenty-six`, `twenty oh five`) and 2001-2009 with `and` (`two thousand and five`) when paired
 * would be odd. Years before 2000 read the same in both styles.
 */
export function yearWords(year: number, style: 0 | 1 = 0): string {
  const [high, low] = [Math.floor(year / 100), year % 100]
  const pair = (): string => `${cardinal(high)} ${low === 0 ? 'hundred' : low < 10 ? `oh ${ONES[low]}` : cardinal(low)}`
  if (year < 2000) return pair()
  if (low === 0) return 'two thousand'
  if (style === 0) return `two thousand ${cardinal(low)}`
  return low < 10 ? `two thousand and ${ONES[low]}` : pair()
}

/** Whether `year` has a 29th of February. */
function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
}

/** Days in a month of a year. */
export function daysInMonth(year: number, month: number): number {
  return [31, isLeapYear(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
}

/** The ISO form of a date, `YYYY-MM-DD`. */
export function isoDate(d: CalendarDate): string {
  return `${String(d.year).padStart(4, '0')}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`
}

/** Every date of the task, in calendar order (73,049 of them). */
export function allDates(): CalendarDate[] {
  const out: CalendarDate[] = []
  for (let year = YEARS.first; year <= YEARS.last; year++) {
    for (let month = 1; month <= 12; month++) for (let day = 1; day <= daysInMonth(year, month); day++) out.push({ year, month, day })
  }
  return out
}

/** How a surface form writes a date; `style` picks among its variants (0 or 1). */
type Render = (d: CalendarDate, style: 0 | 1) => string

const month = (d: CalendarDate): string => MONTHS[d.month - 1]
const abbreviation = (d: CalendarDate): string => MONTH_ABBREVIATIONS[d.month - 1]

/** The surface forms, each with an example for the 3rd of December 2026. */
const FORMATS = {
  /** `third of december 2026` */
  ordinalOf: (d) => `${ordinalWords(d.day)} of ${month(d)} ${d.year}`,
  /** `december 3rd, 2026` */
  monthDay: (d) => `${month(d)} ${ordinalDigits(d.day)}, ${d.year}`,
  /** `3 dec 2026` */
  dayAbbreviation: (d) => `${d.day} ${abbreviation(d)} ${d.year}`,
  /** `dec 3, 2026` */
  abbreviationDay: (d) => `${abbreviation(d)} ${d.day}, ${d.year}`,
  /** `3.12.2026` (day first) */
  dotted: (d) => `${d.day}.${d.month}.${d.year}`,
  /** `the 3rd of december, two thousand twenty-six` (or `twenty twenty-six`) */
  theOfWords: (d, style) => `the ${ordinalDigits(d.day)} of ${month(d)}, ${yearWords(d.year, style)}`,
  /** `december the third, two thousand twenty-six` (or `twenty twenty-six`) */
  monthTheWords: (d, style) => `${month(d)} the ${ordinalWords(d.day)}, ${yearWords(d.year, style)}`,
} as const satisfies Record<string, Render>

/** The name of a surface form. */
export type FormatName = keyof typeof FORMATS

/** The names of the surface forms, in a fixed order. */
export const FORMAT_NAMES = Object.keys(FORMATS) as FormatName[]

/** The example of a date in a surface form. */
export function example(date: CalendarDate, format: FormatName, style: 0 | 1 = 0): Example {
  return { date, format, source: FORMATS[format](date, style), target: isoDate(date) }
}

/** The training and held-out examples of a run. */
export interface DateSplit {
  /** Training examples, one per training date. */
  readonly train: readonly Example[]
  /** Held-out examples, on dates none of the training examples has. */
  readonly heldOut: readonly Example[]
}

/** How many dates the task has; `train + heldOut` may not exceed it. */
export const DATE_COUNT = allDates().length

/**
 * Draws a split from `seed`: a random permutation of all dates gives the held-out dates
 * (its first `heldOut`) and the training dates (the next `train`), so no date is in both;
 * each example gets a surface form and a variant drawn from the seed too.
 */
export function makeSplit(seed: Seed, sizes: { readonly train: number; readonly heldOut: number }): DateSplit {
  if (sizes.train + sizes.heldOut > DATE_COUNT)
    throw new RangeError(`makeSplit: ${sizes.train} + ${sizes.heldOut} examples, but there are only ${DATE_COUNT} dates`)
  const dates = allDates()
  const order = randperm(DATE_COUNT, foldIn(seed, 0)).data as Int32Array
  const forms = new RandomStream(foldIn(seed, 1), 'makeSplit')
  const draw = (i: number): Example => {
    const format = FORMAT_NAMES[forms.nextInt(0, FORMAT_NAMES.length)]
    return example(dates[order[i]], format, forms.nextInt(0, 2) as 0 | 1)
  }
  const heldOut = Array.from({ length: sizes.heldOut }, (_, i) => draw(i))
  const train = Array.from({ length: sizes.train }, (_, i) => draw(sizes.heldOut + i))
  return { train, heldOut }
}
