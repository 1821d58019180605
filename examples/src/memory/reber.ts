/**
 * The embedded Reber grammar (Hochreiter and Schmidhuber 1997, experiment 1, after Cleeremans
 * et al. 1989 and Fahlman 1991): a string is `B`, then `T` or `P`, then a string of the Reber
 * grammar, then the same `T` or `P` again, then `E`. At every step the model predicts the
 * next symbol; a string is right when at every step the symbols that can come next are the
 * most active outputs (as many of them as there are possible next symbols), the paper's
 * criterion. The step that needs memory is the second to last: the `T` or `P` seen at the
 * start decides it, across the whole inner string. Solved when every held-out string is right.
 * @module
 */
import { type Seed, type Tensor, RandomStream, tensor } from '@graphgrad/core'
import { crossEntropy } from '@graphgrad/layers'
import type { Batch, Task } from './tasks.ts'

/** The seven symbols, one-hot in this order. */
export const REBER_SYMBOLS = 'BTPSXVE'

const sym = (c: string): number => REBER_SYMBOLS.indexOf(c)

/** The Reber grammar's graph: from each state, two (symbol, next state) edges taken with equal chance; state 6 is the end. */
const GRAPH: readonly (readonly [string, number])[][] = [
  [
    ['T', 1],
    ['P', 5],
  ],
  [
    ['S', 1],
    ['X', 2],
  ],
  [
    ['S', 3],
    ['X', 5],
  ],
  [['E', 6]],
  [
    ['V', 3],
    ['P', 2],
  ],
  [
    ['V', 4],
    ['T', 5],
  ],
]

/** Strings longer than this are drawn again (about one in 10^5 is), so batches have a bounded length. */
export const REBER_MAX_LENGTH = 60

/** One embedded Reber string: its symbols and, per position, the set of symbols that may follow (a bit mask). */
interface ReberString {
  readonly symbols: number[]
  readonly next: number[]
}

/** Draws one embedded Reber string of at most {@link REBER_MAX_LENGTH} symbols. */
export function embeddedReber(rng: RandomStream): ReberString {
  for (;;) {
    const outer = rng.nextInt(0, 2) === 0 ? 'T' : 'P'
    const symbols = [sym('B'), sym(outer), sym('B')]
    const next = [(1 << sym('T')) | (1 << sym('P')), 1 << sym('B')]
    let state = 0
    while (state !== 6) {
      const edges = GRAPH[state]
      next.push(edges.reduce((mask, [c]) => mask | (1 << sym(c)), 0))
      const [c, to] = edges[edges.length === 1 ? 0 : rng.nextInt(0, 2)]
      symbols.push(sym(c))
      state = to
    }
    // After the inner E only the outer symbol seen at the start may come; after it, E.
    next.push(1 << sym(outer), 1 << sym('E'))
    symbols.push(sym(outer), sym('E'))
    if (symbols.length <= REBER_MAX_LENGTH) return { symbols, next }
  }
}

/** Whether, at one step, the `allowed` symbols are exactly the most active outputs (a strict gap to every other). */
function predicted(logits: ArrayLike<number>, offset: number, allowed: number): boolean {
  let lowestAllowed = Infinity
  let highestOther = -Infinity
  for (let c = 0; c < REBER_SYMBOLS.length; c++) {
    const v = logits[offset + c]
    if ((allowed >> c) & 1) lowestAllowed = Math.min(lowestAllowed, v)
    else highestOther = Math.max(highestOther, v)
  }
  return lowestAllowed > highestOther
}

/** Pads the strings into one batch; padded steps have zero inputs and are ignored by the loss and the verdict. */
function reberBatch(strings: readonly ReberString[]): Batch {
  const size = strings.length
  const length = Math.max(...strings.map((s) => s.symbols.length))
  const features = REBER_SYMBOLS.length
  const inputs = new Float32Array(size * length * features)
  const targets = new Int32Array(size * length).fill(-100)
  strings.forEach((s, b) => {
    s.symbols.forEach((c, t) => {
      inputs[(b * length + t) * features + c] = 1
      if (t + 1 < s.symbols.length) targets[b * length + t] = s.symbols[t + 1]
    })
  })
  return {
    inputs: tensor(inputs, { shape: [size, length, features] }),
    targets: tensor(targets, { shape: [size * length] }),
    right: (outputs: Tensor) => {
      const logits = outputs.data
      return strings.map((s, b) => s.next.every((allowed, t) => predicted(logits, (b * length + t) * features, allowed)))
    },
  }
}

/** The embedded Reber grammar as a task; it has no lag (the `lag` argument is ignored). */
export const reberTask: Task = {
  name: 'reber',
  title: 'embedded Reber grammar: predict the next symbol; the second to last depends on the second',
  criterion: 'right: every possible next symbol predicted at every step; solved: every held-out string right',
  inputSize: REBER_SYMBOLS.length,
  outputSize: REBER_SYMBOLS.length,
  perStep: true,
  chance: 0,
  chanceLoss: Math.log(REBER_SYMBOLS.length),
  sequenceLength: () => REBER_MAX_LENGTH,
  batch(_lag: number, size: number, seed: Seed) {
    const rng = new RandomStream(seed, 'reber')
    return reberBatch(Array.from({ length: size }, () => embeddedReber(rng)))
  },
  loss: (outputs, targets) => crossEntropy(outputs, targets, { ignoreIndex: -100 }),
  solved: (e) => e.right === 1,
}
