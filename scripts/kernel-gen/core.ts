/**
 * The templates of core's elementwise, reduction and indexing kernels, and the dtype
 * combinations each is generated for: exactly those the ops produce, plus one generic
 * (TensorData) copy per expression or operation for any other combination.
 */
import type { DType } from '../../packages/core/src/dtype.ts'
import { STRIDED_BODIES } from '../../packages/core/src/kernels/elementwise.ts'
import { AXIS_BODIES, ROW_BODIES } from '../../packages/core/src/kernels/indexing.ts'
import { COMBINE, type ReduceOp } from '../../packages/core/src/kernels/reduce.ts'
import { BINARY_KERNEL_RULES } from '../../packages/core/src/ops/binary.ts'
import { UNARY_KERNEL_RULES } from '../../packages/core/src/ops/unary.ts'
import { ARRAY, DTYPES, FLOATS, type Kernel, type Param, fn, header, ident, key, stridedLoop, table } from './emit.ts'

/** One kind of kernel: its specialised copies and its generic ones, keyed by expression or operation. */
interface Family {
  readonly kernels: Kernel[]
  readonly generic: Kernel[]
}

const TENSOR_DATA = 'TensorData'
const STRIDES = 'readonly number[]'

/** The array type of `dtype`, or TensorData for a generic copy. */
function arr(dtype: DType | null): string {
  return dtype === null ? TENSOR_DATA : ARRAY[dtype]
}

/**
 * Adds to `family` the copies of one kernel: one per dtype combination in `combos` and a
 * generic one. `make(types)` gives the parameters and body for the array types `types`.
 */
function add(
  family: Family,
  prefix: string,
  label: string,
  lookup: string,
  combos: readonly (readonly DType[])[],
  make: (types: readonly string[]) => { params: readonly Param[]; body: readonly string[] },
): void {
  for (const dtypes of combos) {
    const name = ident(prefix, label, ...dtypes)
    const { params, body } = make(dtypes.map(arr))
    family.kernels.push({ key: key(lookup, dtypes), name, source: fn(name, params, body) })
  }
  const name = ident(prefix, label, 'generic')
  const { params, body } = make(combos[0].map(() => TENSOR_DATA))
  family.generic.push({ key: lookup, name, source: fn(name, params, body) })
}

/** A broadcasting kernel's parameters: its arrays (the inputs, then `out`), the output shape, and each input's strides `s_k` over it. */
function broadcastParams(arrays: readonly Param[]): Param[] {
  return [...arrays, ['shape', STRIDES], ...arrays.slice(0, -1).map((_, k): Param => [`s_${k}`, STRIDES])]
}

function emptyFamily(): Family {
  return { kernels: [], generic: [] }
}

/** Kernel names by expression: a second rule with the same expression shares the first one's kernels. */
function uniqueExprs(rules: readonly (readonly [name: string, expr: string])[]): [string, string][] {
  const seen = new Map<string, string>()
  for (const [name, expr] of rules) if (!seen.has(expr)) seen.set(expr, name)
  return [...seen].map(([expr, name]) => [name, expr])
}

function unaryFamily(): Family {
  const f = emptyFamily()
  const rules = Object.entries(UNARY_KERNEL_RULES)
  const keepsInt = new Set(rules.filter(([, r]) => r.keepsInt === true).map(([, r]) => r.expr))
  for (const [name, expr] of uniqueExprs(rules.map(([n, r]) => [n, r.expr]))) {
    // int32 inputs keep their dtype or are computed in float32 (ops/unary.ts).
    const combos: DType[][] = [['float32', 'float32'], ['float64', 'float64'], keepsInt.has(expr) ? ['int32', 'int32'] : ['int32', 'float32']]
    add(f, 'unary', name, expr, combos, ([x, out]) => ({
      params: [
        ['x', x],
        ['out', out],
        ['n', 'number'],
        ['p', 'number'],
        ['q', 'number'],
        ['f', 'ScalarFn'],
      ],
      body: [`for (let i = 0; i < n; i++) { const v = x[i]; out[i] = ${expr.replace(/\bx\b/g, 'v')} }`],
    }))
  }
  return f
}

// Same-shape and scalar operands are the common cases: they get straight loops.
function binaryBody(expr: string): string[] {
  const e = expr.replace(/\ba\b/g, 'x').replace(/\bb\b/g, 'y')
  return [
    'const m = out.length',
    `if (a.length === m && b.length === m) { for (let i = 0; i < m; i++) { const x = a[i], y = b[i]; out[i] = ${e} } return }`,
    `if (b.length === 1 && a.length === m) { const y = b[0]; for (let i = 0; i < m; i++) { const x = a[i]; out[i] = ${e} } return }`,
    `if (a.length === 1 && b.length === m) { const x = a[0]; for (let i = 0; i < m; i++) { const y = b[i]; out[i] = ${e} } return }`,
    ...stridedLoop(2, `const x = a[p_0], y = b[p_1]; out[o] = ${e}`),
  ]
}

/** The cotangent accumulation's sum (packages/core/src/autodiff/accumulate.ts), an expression of no rule table. */
const ACCUMULATE_EXPR = 'a + b'

function binaryFamily(): Family {
  const f = emptyFamily()
  const { arith, compare } = BINARY_KERNEL_RULES
  const floatOnly = new Set(
    Object.values(arith)
      .filter((r) => r.floatOnly === true)
      .map((r) => r.expr),
  )
  const isCompare = new Set(Object.values(compare))
  const exprs = uniqueExprs([
    ...Object.entries(arith).map(([n, r]): [string, string] => [n, r.expr]),
    ['accumulate', ACCUMULATE_EXPR],
    ...Object.entries(compare),
  ])
  for (const [name, expr] of exprs) {
    // Operands are promoted to one dtype first (ops/binary.ts); comparisons write int32.
    const inputs = floatOnly.has(expr) ? FLOATS : DTYPES
    const combos = inputs.map((d): DType[] => [d, d, isCompare.has(expr) ? 'int32' : d])
    add(f, 'binary', name, expr, combos, ([a, b, out]) => ({
      params: broadcastParams([
        ['a', a],
        ['b', b],
        ['out', out],
      ]),
      body: binaryBody(expr),
    }))
  }
  return f
}

function whereFamily(): Family {
  const f = emptyFamily()
  // The condition may have any dtype; a, b and the output share one.
  const combos = DTYPES.flatMap((c) => DTYPES.map((d): DType[] => [c, d, d, d]))
  add(f, 'where', 'select', 'where', combos, ([c, a, b, out]) => ({
    params: broadcastParams([
      ['c', c],
      ['a', a],
      ['b', b],
      ['out', out],
    ]),
    body: stridedLoop(3, 'out[o] = c[p_0] !== 0 ? a[p_1] : b[p_2]'),
  }))
  return f
}

function stridedFamily(): Family {
  const f = emptyFamily()
  for (const [op, body] of Object.entries(STRIDED_BODIES)) {
    add(
      f,
      'copy',
      op,
      op,
      DTYPES.map((d) => [d, d]),
      ([src, out]) => ({
        params: [
          ['src', src],
          ['out', out],
          ['start', 'number'],
          ['s_0', STRIDES],
          ['shape', STRIDES],
        ],
        body: stridedLoop(1, body, 'start'),
      }),
    )
  }
  return f
}

function reduceFamilies(): { strided: Family; rows: Family } {
  const strided = emptyFamily()
  const rows = emptyFamily()
  for (const [op, { init, step }] of Object.entries(COMBINE) as [ReduceOp, { init: number; step: string }][]) {
    // Accumulators are float64 (the caller's `acc`); the output has the input's dtype.
    add(
      strided,
      'reduce',
      op,
      op,
      DTYPES.map((d) => [d]),
      ([x]) => ({
        params: [
          ['x', x],
          ['acc', 'Float64Array'],
          ['shape', STRIDES],
          ['s_0', STRIDES],
        ],
        body: stridedLoop(1, `const v = x[o]; ${step.replace(/ACC/g, 'acc[p_0]')}`),
      }),
    )
    // int32 sums and products are written to float64 and range-checked by the op, not wrapped
    // in an int32 output; so they have an (int32, float64) copy in place of (int32, int32).
    const wide = op === 'sum' || op === 'prod'
    const pairs = DTYPES.map((d) => [d, wide && d === 'int32' ? 'float64' : d])
    add(rows, 'rows', op, `rows:${op}`, pairs, ([x, out]) => ({
      params: [
        ['x', x],
        ['out', out],
        ['rows', 'number'],
        ['len', 'number'],
      ],
      body: [
        'for (let r = 0, i = 0; r < rows; r++) {',
        `  let acc = ${init}`,
        `  for (let end = i + len; i < end; i++) { const v = x[i]; ${step.replace(/ACC/g, 'acc')} }`,
        '  out[r] = acc',
        '}',
      ],
    }))
  }
  return { strided, rows }
}

function indexingFamilies(): { axis: Family; row: Family; oneHot: Family } {
  const axis = emptyFamily()
  const row = emptyFamily()
  const oneHot = emptyFamily()
  const same = DTYPES.map((d) => [d, d])
  for (const [op, body] of Object.entries(AXIS_BODIES)) {
    add(axis, 'axis', op, `axisIndex(${op})`, same, ([x, out]) => ({
      params: [
        ['x', x],
        ['index', 'Int32Array'],
        ['out', out],
        ['shape', STRIDES],
        ['s_0', STRIDES],
        ['s_1', STRIDES],
        ['axisStride', 'number'],
      ],
      body: stridedLoop(2, body),
    }))
  }
  for (const [op, body] of Object.entries(ROW_BODIES)) {
    add(row, 'row', op, `rowIndex(${op})`, same, ([x, out]) => ({
      params: [
        ['x', x],
        ['index', 'Int32Array'],
        ['out', out],
        ['outer', 'number'],
        ['n', 'number'],
        ['inner', 'number'],
      ],
      body: [
        'const m = index.length',
        'for (let o = 0; o < outer; o++) {',
        '  for (let j = 0; j < m; j++) {',
        '    const a = (o * n + index[j]) * inner, b = (o * m + j) * inner',
        `    for (let i = 0; i < inner; i++) ${body}`,
        '  }',
        '}',
      ],
    }))
  }
  add(
    oneHot,
    'oneHot',
    'into',
    'oneHot',
    DTYPES.map((d) => [d]),
    ([out]) => ({
      params: [
        ['index', 'Int32Array'],
        ['numClasses', 'number'],
        ['out', out],
      ],
      body: ['for (let i = 0; i < index.length; i++) out[i * numClasses + index[i]] = 1'],
    }),
  )
  return { axis, row, oneHot }
}

/** A generated file: its functions, then a table of the specialised copies and one of the generic ones per family. */
function file(from: string, types: readonly string[], families: readonly (readonly [name: string, what: string, type: string, family: Family])[]): string {
  const imports = `import type { TensorData } from '../../dtype.ts'\nimport type { ${[...types].sort().join(', ')} } from '../signatures.ts'\n`
  const fns = families.flatMap(([, , , f]) => [...f.kernels, ...f.generic].map((k) => k.source))
  const tables = families.flatMap(([name, what, type, f]) => [
    table(name, `${what}, by \`dtypeKey(name, ...dtypes)\`.`, type, f.kernels),
    table(`${name}_GENERIC`, `${what} for any other dtypes (polymorphic), by name.`, type, f.generic),
  ])
  return [header(from), imports, ...fns, ...tables].join('\n')
}

/** Core's generated kernel files (but the GEMM's), by path from the repository's root. */
export function coreFiles(): Map<string, string> {
  const { strided: reduce, rows } = reduceFamilies()
  const { axis, row, oneHot } = indexingFamilies()
  const dir = 'packages/core/src/kernels/generated'
  return new Map([
    [
      `${dir}/elementwise.ts`,
      file(
        'the exprs of ops/unary.ts and ops/binary.ts and the bodies of kernels/elementwise.ts',
        ['BinaryKernel', 'ScalarFn', 'StridedKernel', 'UnaryKernel', 'WhereKernel'],
        [
          ['UNARY', 'Unary maps', 'UnaryKernel', unaryFamily()],
          ['BINARY', 'Broadcasting binary maps', 'BinaryKernel', binaryFamily()],
          ['WHERE', 'Selects', 'WhereKernel', whereFamily()],
          ['STRIDED', 'Strided copies', 'StridedKernel', stridedFamily()],
        ],
      ),
    ],
    [
      `${dir}/reduce.ts`,
      file(
        'the steps of kernels/reduce.ts',
        ['ReduceKernel', 'RowsKernel'],
        [
          ['REDUCE', 'Reductions over any axes', 'ReduceKernel', reduce],
          ['REDUCE_ROWS', 'Reductions of contiguous rows', 'RowsKernel', rows],
        ],
      ),
    ],
    [
      `${dir}/indexing.ts`,
      file(
        'the bodies of kernels/indexing.ts',
        ['AxisKernel', 'OneHotKernel', 'RowKernel'],
        [
          ['AXIS', 'Gathers and scatter-adds along an axis', 'AxisKernel', axis],
          ['ROW', 'Row selections and accumulations', 'RowKernel', row],
          ['ONE_HOT', 'One-hot writes', 'OneHotKernel', oneHot],
        ],
      ),
    ],
  ])
}
