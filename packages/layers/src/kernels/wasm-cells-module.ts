/**
 * Emits the WebAssembly module of the float32 cell kernels: for each cell (LSTM, GRU, Elman
 * with tanh or relu) a forward and a backward step over the step's rows in linear memory,
 * the same math as the TypeScript kernels (`lstm.ts`, `gru.ts`, `rnn.ts`) with the
 * activations of `approx.ts`, evaluated in float32 four lanes at a time.
 *
 * Every step function takes the same arguments, `(B, H, ...row addresses)` in the order of
 * {@link FORWARD_ROWS} or {@link BACKWARD_ROWS} (byte addresses; the rows a cell does not use
 * are passed but never read), and walks the B rows, each in vectors of four columns and then
 * one column at a time for the last H mod 4.
 * @module
 */
import { type FunctionBuilder, type Local, ModuleBuilder } from '@graphgrad/core/internal'
import { type Expr, Lanes } from './wasm-lanes.ts'

/** The forward rows, in the order the step functions take their addresses (see `cell.ts`). */
export const FORWARD_ROWS = ['gx', 'pre', 'bhh', 'hPrev', 'cPrev', 'hNext', 'cNext', 'cache'] as const

/** The backward rows, in the order the step functions take their addresses (see `cell.ts`). */
export const BACKWARD_ROWS = ['cache', 'hPrev', 'hNext', 'cPrev', 'cNext', 'dh', 'dc', 'dgx', 'dpre', 'dhPrev', 'dcPrev'] as const

/** The rows of {@link ROW_OPS}' functions, `(rows, width, ...)` in place of `(B, H, ...)`. */
const ROW_OP_ROWS = ['m', 'bias'] as const

type Row = (typeof FORWARD_ROWS)[number] | (typeof BACKWARD_ROWS)[number] | (typeof ROW_OP_ROWS)[number]

/** The cells the module has kernels for; `<name>Forward` and `<name>Backward` are its exports. */
export type WasmCellName = 'lstm' | 'gru' | 'rnnTanh' | 'rnnRelu'

/**
 * The address of gate `gate` of a row at the current (batch row, columns): `width` is the
 * row's length in units of H (G for the projections, the cache width, 1 for states, 0 for a
 * bias shared by every batch row).
 */
type Address = (row: Row, width: number, gate?: number) => Expr

/** One step's body, written once for both lane widths. */
type Body = (L: Lanes, at: Address) => void

interface CellBodies {
  readonly gates: number
  readonly forward: Body
  readonly backward: Body
}

const lstm: CellBodies = {
  gates: 4,
  forward(L, at) {
    const [i, f, g, o, c, tc] = [L.local(), L.local(), L.local(), L.local(), L.local(), L.local()]
    const x = (gate: number): Expr => L.add(L.load(at('gx', 4, gate)), L.load(at('pre', 4, gate)))
    L.sigmoid(i, x(0))
    L.sigmoid(f, x(1))
    L.tanh(g, x(2))
    L.sigmoid(o, x(3))
    L.set(c, L.add(L.mul(L.get(f), L.load(at('cPrev', 1))), L.mul(L.get(i), L.get(g))))
    ;[i, f, g, o].forEach((v, gate) => L.store(at('cache', 4, gate), L.get(v)))
    L.store(at('cNext', 1), L.get(c))
    L.tanh(tc, L.get(c))
    L.store(at('hNext', 1), L.mul(L.get(o), L.get(tc)))
  },
  backward(L, at) {
    const [i, f, g, o, tc, dh, dct] = [L.local(), L.local(), L.local(), L.local(), L.local(), L.local(), L.local()]
    ;[i, f, g, o].forEach((v, gate) => L.set(v, L.load(at('cache', 4, gate))))
    L.tanh(tc, L.load(at('cNext', 1)))
    L.set(dh, L.load(at('dh', 1)))
    L.set(dct, L.add(L.load(at('dc', 1)), L.mul(L.get(dh), L.get(o), L.oneMinus(L.mul(L.get(tc), L.get(tc))))))
    const gates = [
      L.mul(L.get(dct), L.get(g), L.get(i), L.oneMinus(L.get(i))),
      L.mul(L.get(dct), L.load(at('cPrev', 1)), L.get(f), L.oneMinus(L.get(f))),
      L.mul(L.get(dct), L.get(i), L.oneMinus(L.mul(L.get(g), L.get(g)))),
      L.mul(L.get(dh), L.get(tc), L.get(o), L.oneMinus(L.get(o))),
    ]
    const d = L.local()
    gates.forEach((value, gate) => {
      L.set(d, value)
      L.store(at('dgx', 4, gate), L.get(d))
      L.store(at('dpre', 4, gate), L.get(d))
    })
    L.store(at('dcPrev', 1), L.mul(L.get(dct), L.get(f)))
    L.store(at('dhPrev', 1), L.k(0))
  },
}

const gru: CellBodies = {
  gates: 3,
  forward(L, at) {
    const [r, z, hn, n] = [L.local(), L.local(), L.local(), L.local()]
    // Without a b_hh the caller passes zeros: `pre + 0` is what the TypeScript kernel adds too.
    const hidden = (gate: number): Expr => L.add(L.load(at('pre', 3, gate)), L.load(at('bhh', 0, gate)))
    L.sigmoid(r, L.add(L.load(at('gx', 3, 0)), hidden(0)))
    L.sigmoid(z, L.add(L.load(at('gx', 3, 1)), hidden(1)))
    L.set(hn, hidden(2))
    L.tanh(n, L.add(L.load(at('gx', 3, 2)), L.mul(L.get(r), L.get(hn))))
    ;[r, z, n, hn].forEach((v, slot) => L.store(at('cache', 4, slot), L.get(v)))
    L.store(at('hNext', 1), L.add(L.mul(L.oneMinus(L.get(z)), L.get(n)), L.mul(L.get(z), L.load(at('hPrev', 1)))))
  },
  backward(L, at) {
    const [r, z, n, hn, dh, dan, d] = [L.local(), L.local(), L.local(), L.local(), L.local(), L.local(), L.local()]
    ;[r, z, n, hn].forEach((v, slot) => L.set(v, L.load(at('cache', 4, slot))))
    L.set(dh, L.load(at('dh', 1)))
    L.set(dan, L.mul(L.get(dh), L.oneMinus(L.get(z)), L.oneMinus(L.mul(L.get(n), L.get(n)))))
    L.set(d, L.mul(L.get(dan), L.get(hn), L.get(r), L.oneMinus(L.get(r))))
    L.store(at('dgx', 3, 0), L.get(d))
    L.store(at('dpre', 3, 0), L.get(d))
    L.set(d, L.mul(L.get(dh), L.sub(L.load(at('hPrev', 1)), L.get(n)), L.get(z), L.oneMinus(L.get(z))))
    L.store(at('dgx', 3, 1), L.get(d))
    L.store(at('dpre', 3, 1), L.get(d))
    L.store(at('dgx', 3, 2), L.get(dan))
    L.store(at('dpre', 3, 2), L.mul(L.get(dan), L.get(r)))
    L.store(at('dhPrev', 1), L.mul(L.get(dh), L.get(z)))
  },
}

function elman(relu: boolean): CellBodies {
  return {
    gates: 1,
    forward(L, at) {
      const a = L.add(L.load(at('gx', 1)), L.load(at('pre', 1)))
      if (relu) L.store(at('hNext', 1), L.max(a, L.k(0)))
      else {
        const h = L.local()
        L.tanh(h, a)
        L.store(at('hNext', 1), L.get(h))
      }
    },
    backward(L, at) {
      const [h, d] = [L.local(), L.local()]
      L.set(h, L.load(at('hNext', 1)))
      L.set(d, relu ? L.wherePositive(L.get(h), L.load(at('dh', 1))) : L.mul(L.load(at('dh', 1)), L.oneMinus(L.mul(L.get(h), L.get(h)))))
      L.store(at('dgx', 1), L.get(d))
      L.store(at('dpre', 1), L.get(d))
      L.store(at('dhPrev', 1), L.k(0))
    },
  }
}

const CELLS: Readonly<Record<WasmCellName, CellBodies>> = { lstm, gru, rnnTanh: elman(false), rnnRelu: elman(true) }

/**
 * The scan's other per-step passes over the rows, `(rows, width, m, bias)`: `addBias` adds
 * the bias row to each row of m (the input projection's bias), `sumInto` adds the rows of m
 * into the bias row (a bias's cotangent, one step's rows at a time).
 */
const ROW_OPS: Readonly<Record<'addBias' | 'sumInto', Body>> = {
  addBias: (L, at) => L.store(at('m', 1), L.add(L.load(at('m', 1)), L.load(at('bias', 0)))),
  sumInto: (L, at) => L.store(at('bias', 0), L.add(L.load(at('bias', 0)), L.load(at('m', 1)))),
}

/** The bytes of the module with every cell's forward and backward step, and the {@link ROW_OPS}. */
export function cellModuleBytes(): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder()
  const i32s = (n: number): 'i32'[] => new Array<'i32'>(2 + n).fill('i32')
  for (const [name, cell] of Object.entries(CELLS)) {
    emitStep(m.function(`${name}Forward`, i32s(FORWARD_ROWS.length)).fn, FORWARD_ROWS, cell.forward)
    emitStep(m.function(`${name}Backward`, i32s(BACKWARD_ROWS.length)).fn, BACKWARD_ROWS, cell.backward)
  }
  for (const [name, body] of Object.entries(ROW_OPS)) emitStep(m.function(name, i32s(ROW_OP_ROWS.length)).fn, ROW_OP_ROWS, body)
  return m.encode()
}

/**
 * The loops of one step: for each batch row b, the columns j in vectors of four while four
 * remain, then one at a time. Byte offsets are kept per row width: `rowAt[w] = b * w * H * 4`
 * and, inside the column loops, `colAt[w] = rowAt[w] + j * 4`.
 */
function emitStep(f: FunctionBuilder, rows: readonly Row[], body: Body): void {
  const [B, H, ...addresses] = f.params as Local<'i32'>[]
  const base = new Map(rows.map((row, i) => [row, addresses[i]]))
  const i32 = (): Local<'i32'> => f.local('i32')
  const [Hb, b, jb] = [i32(), i32(), i32()]
  f.get(H).i32(4).op('i32.mul').set(Hb)
  const gateAt = [1, 2, 3].map((g) => {
    const l = i32()
    f.get(Hb).i32(g).op('i32.mul').set(l)
    return l
  })
  const widths = [1, 3, 4]
  const rowAt = new Map(widths.map((w) => [w, i32()]))
  const colAt = new Map([0, ...widths].map((w) => [w, i32()]))
  const at: Address =
    (row, width, gate = 0) =>
    () => {
      const col = colAt.get(width)
      const from = base.get(row)
      if (col === undefined || from === undefined) throw new Error(`wasm cells: no row '${row}' of width ${width}`)
      f.get(from).get(col).op('i32.add')
      if (gate > 0) f.get(gateAt[gate - 1]).op('i32.add')
    }
  const columns = (L: Lanes): void => {
    f.block((done) =>
      f.loop((next) => {
        f.get(jb).i32(L.bytes).op('i32.add').get(Hb).op('i32.gt_s').brIf(done)
        f.get(jb).set(colAt.get(0) as Local<'i32'>)
        for (const w of widths)
          f.get(rowAt.get(w) as Local<'i32'>)
            .get(jb)
            .op('i32.add')
            .set(colAt.get(w) as Local<'i32'>)
        body(L, at)
        f.increment(jb, L.bytes).br(next)
      }),
    )
  }
  const vector = new Lanes(f, true)
  const scalar = new Lanes(f, false)
  f.block((done) =>
    f.loop((next) => {
      f.get(b).get(B).op('i32.ge_s').brIf(done)
      f.i32(0).set(jb)
      columns(vector)
      columns(scalar)
      for (const w of widths)
        f.get(rowAt.get(w) as Local<'i32'>)
          .get(Hb)
          .i32(w)
          .op('i32.mul')
          .op('i32.add')
          .set(rowAt.get(w) as Local<'i32'>)
      f.increment(b, 1).br(next)
    }),
  )
}
