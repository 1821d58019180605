/**
 * The templates of the TypeScript GEMM's kernels (packages/core/src/kernels/matmul.ts): the
 * packing, once per source dtype, and the register-tiled micro-kernel, once per tile size.
 */
import { DEFAULT_BLOCKING } from '../../packages/core/src/kernels/matmul.ts'
import { ARRAY, DTYPES, type Kernel, type Param, fn, header, ident, key, table } from './emit.ts'

/**
 * The register tiles (mr x nr) that get a micro-kernel: the default blocking's, and those the
 * tests run (packages/core/test/matmul.test.ts). A blocking with another tile (for tuning)
 * needs its tile added here.
 */
const GEMM_TILES: readonly (readonly [mr: number, nr: number])[] = [
  [DEFAULT_BLOCKING.mr, DEFAULT_BLOCKING.nr],
  [4, 4],
  [3, 2],
]

function packKernel(name: string, src: string): string {
  const params: Param[] = [
    ['src', src],
    ['off', 'number'],
    ['ls', 'number'],
    ['ds', 'number'],
    ['n', 'number'],
    ['kc', 'number'],
    ['r', 'number'],
    ['dst', 'Float64Array'],
  ]
  return fn(name, params, [
    'let p = 0',
    'for (let s = 0; s < n; s += r) {',
    '  const full = s + r <= n ? r : n - s',
    '  for (let k = 0; k < kc; k++) {',
    '    let q = off + s * ls + k * ds',
    '    let j = 0',
    '    for (; j < full; j++, q += ls) dst[p++] = src[q]',
    '    for (; j < r; j++) dst[p++] = 0',
    '  }',
    '}',
  ])
}

/**
 * The micro-kernel for an `mr` x `nr` tile: the accumulators are named locals (`c_i_j`),
 * so V8 keeps them in registers; edge tiles go through `tile` and are clipped.
 */
function microKernel(name: string, mr: number, nr: number): string {
  const rows = Array.from({ length: mr }, (_, i) => i)
  const cols = Array.from({ length: nr }, (_, j) => j)
  const each = (f: (i: number, j: number) => string, sep = '; '): string => rows.flatMap((i) => cols.map((j) => f(i, j))).join(sep)
  const at = (i: number, j: number): string => `pc${i === 0 ? '' : ` + ${i} * ldc`}${j === 0 ? '' : ` + ${j}`}`
  const params: Param[] = [
    ['kc', 'number'],
    ['A', 'Float64Array'],
    ['pa', 'number'],
    ['B', 'Float64Array'],
    ['pb', 'number'],
    ['C', 'Float64Array'],
    ['pc', 'number'],
    ['ldc', 'number'],
    ['mr', 'number'],
    ['nr', 'number'],
    ['first', 'boolean'],
    ['tile', 'Float64Array'],
  ]
  return fn(name, params, [
    `let ${each((i, j) => `c_${i}_${j} = 0`, ', ')}`,
    `for (let k = 0; k < kc; k++, pa += ${mr}, pb += ${nr}) {`,
    `  ${rows.map((i) => `const a${i} = A[pa + ${i}]`).join('; ')}`,
    ...cols.map((j) => `  { const b = B[pb + ${j}]; ${rows.map((i) => `c_${i}_${j} += a${i} * b`).join('; ')} }`),
    '}',
    `if (mr === ${mr} && nr === ${nr}) {`,
    `  if (first) { ${each((i, j) => `C[${at(i, j)}] = c_${i}_${j}`)} }`,
    `  else { ${each((i, j) => `C[${at(i, j)}] += c_${i}_${j}`)} }`,
    '  return',
    '}',
    `${each((i, j) => `tile[${i * nr + j}] = c_${i}_${j}`)}`,
    'for (let i = 0; i < mr; i++) for (let j = 0; j < nr; j++) {',
    `  const v = tile[i * ${nr} + j]`,
    '  if (first) C[pc + i * ldc + j] = v; else C[pc + i * ldc + j] += v',
    '}',
  ])
}

/** The GEMM's generated file, by path from the repository's root. */
export function gemmFiles(): Map<string, string> {
  const packs: Kernel[] = DTYPES.map((d) => {
    const name = ident('gemmPack', d)
    return { key: key('gemmPack', [d]), name, source: packKernel(name, ARRAY[d]) }
  })
  const seen = new Set<string>()
  const micros: Kernel[] = []
  for (const [mr, nr] of GEMM_TILES) {
    const k = `gemmMicro:${mr}x${nr}`
    if (seen.has(k)) continue
    seen.add(k)
    const name = `gemmMicro_${mr}x${nr}`
    micros.push({ key: k, name, source: microKernel(name, mr, nr) })
  }
  const text = [
    header('the templates of scripts/kernel-gen/gemm.ts'),
    "import type { TensorData } from '../../dtype.ts'\nimport type { MicroKernel, PackKernel } from '../signatures.ts'\n",
    ...packs.map((k) => k.source),
    packKernel('gemmPack_generic', 'TensorData'),
    ...micros.map((k) => k.source),
    table('GEMM_PACK', "The packing copies, by `dtypeKey('gemmPack', dtype)` of the source.", 'PackKernel', packs),
    '/** The packing copy for any other source array (polymorphic). */\nexport const GEMM_PACK_GENERIC: PackKernel = gemmPack_generic\n',
    table('GEMM_MICRO', 'The micro-kernels, by `gemmMicro:${mr}x${nr}`.', 'MicroKernel', micros),
  ]
  return new Map([['packages/core/src/kernels/generated/gemm.ts', text.join('\n')]])
}
