/**
 * The generated kernels of @graphgrad/layers (the recurrent scan's block copies), and the
 * per-array-class copies of kernels written once generic over Float32Array | Float64Array
 * (@graphgrad/optim's optimizer kernels, core's log-softmax).
 */
import { readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import ts from 'typescript'
import type { DType } from '../../packages/core/src/dtype.ts'
import { ARRAY, FLOATS, type Kernel, type Param, fn, header, ident, key, table } from './emit.ts'

/** Adds the copies of one scan kernel: one per combination of float classes in `combos`, and a generic one. */
function scanKernels(
  lookup: string,
  combos: readonly (readonly DType[])[],
  make: (types: readonly string[]) => { params: Param[]; body: string[] },
): { kernels: Kernel[]; generic: Kernel } {
  const kernels = combos.map((dtypes) => {
    const name = ident(lookup, ...dtypes)
    const { params, body } = make(dtypes.map((d) => ARRAY[d]))
    return { key: key(lookup, dtypes), name, source: fn(name, params, body) }
  })
  const name = ident(lookup, 'generic')
  const { params, body } = make(combos[0].map(() => 'Floats'))
  return { kernels, generic: { key: lookup, name, source: fn(name, params, body) } }
}

/** The layers package's generated file, by path from the repository's root. */
export function layersFiles(): Map<string, string> {
  const pairs = FLOATS.flatMap((s) => FLOATS.map((d): DType[] => [s, d]))
  const copyParams = (src: string, dst: string): Param[] => [
    ['src', src],
    ['srcAt', 'number'],
    ['dst', dst],
    ['dstAt', 'number'],
    ['n', 'number'],
  ]
  const copy = scanKernels('scanCopy', pairs, ([s, d]) => ({ params: copyParams(s, d), body: ['for (let i = 0; i < n; i++) dst[dstAt + i] = src[srcAt + i]'] }))
  const add = scanKernels('scanAdd', pairs, ([s, d]) => ({ params: copyParams(s, d), body: ['for (let i = 0; i < n; i++) dst[dstAt + i] += src[srcAt + i]'] }))
  const biased = scanKernels('scanBiasedRows', pairs, ([s, d]) => ({
    params: [
      ['src', s],
      ['srcAt', 'number'],
      ['dst', d],
      ['rows', 'number'],
      ['width', 'number'],
      ['bias', 'Float64Array'],
    ],
    body: ['for (let r = 0, i = 0; r < rows; r++) {', '  for (let j = 0; j < width; j++, i++) dst[i] = src[srcAt + i] + bias[j]', '}'],
  }))
  const all = [copy, add, biased]
  const text = [
    header('the templates of scripts/kernel-gen/packages.ts'),
    "import type { AddKernel, BiasedRowsKernel, CopyKernel, Floats } from './copy.ts'\n",
    ...all.flatMap((k) => [...k.kernels, k.generic].map((x) => x.source)),
    table('SCAN_COPY', "Block copies, by `dtypeKey('scanCopy', src, dst)`.", 'CopyKernel', copy.kernels),
    table('SCAN_ADD', "Block additions, by `dtypeKey('scanAdd', src, dst)`.", 'AddKernel', add.kernels),
    table('SCAN_BIASED_ROWS', "Biased row loads, by `dtypeKey('scanBiasedRows', src, dst)`.", 'BiasedRowsKernel', biased.kernels),
    '/** The copies for any other array classes (polymorphic). */',
    `export const SCAN_GENERIC = { copy: ${copy.generic.name}, add: ${add.generic.name}, biasedRows: ${biased.generic.name} } as const\n`,
  ]
  return new Map([['packages/layers/src/kernels/generated.ts', text.join('\n')]])
}

const OPTIM_KERNELS = 'packages/optim/src/kernels.ts'

/**
 * A copy of `decl` (a function with one type parameter constrained to `Floats`) for the
 * array class `cls`: the type parameter's uses replaced by the class, under a new name.
 */
function specialise(sf: ts.SourceFile, decl: ts.FunctionDeclaration, cls: string, name: string): string {
  const param = decl.typeParameters?.[0]
  if (decl.typeParameters?.length !== 1 || param === undefined || decl.body === undefined)
    throw new Error(`${decl.name?.text}: expected one type parameter and a body`)
  const text = sf.text
  // From the parameter list's '(' to the end: the type parameter list `<A extends Floats>` is dropped.
  const from = text.indexOf('(', decl.typeParameters.end)
  const edits: { start: number; end: number }[] = []
  const visit = (node: ts.Node): void => {
    if (ts.isTypeReferenceNode(node) && ts.isIdentifier(node.typeName) && node.typeName.text === param.name.text) {
      edits.push({ start: node.getStart(sf), end: node.end })
    }
    ts.forEachChild(node, visit)
  }
  ts.forEachChild(decl, visit)
  let out = ''
  let at = from
  for (const e of edits.filter((x) => x.start >= from).sort((x, y) => x.start - y.start)) {
    out += text.slice(at, e.start) + cls
    at = e.end
  }
  return `function ${name}${out}${text.slice(at, decl.end)}\n`
}

/**
 * The per-class copies of every top-level function generic over Floats (`<A extends Floats>`)
 * in `source` (a path from the repository's root), as the file `target` beside it: one copy per
 * float class, and a `PER_CLASS` table of them by kernel name.
 */
function perClassFile(root: string, source: string, target: string): [string, string] {
  const sf = ts.createSourceFile(source, readFileSync(join(root, source), 'utf8'), ts.ScriptTarget.ES2022, true)
  const generic = sf.statements.filter(
    (s): s is ts.FunctionDeclaration =>
      ts.isFunctionDeclaration(s) && s.name !== undefined && s.typeParameters?.length === 1 && s.typeParameters[0].constraint?.getText(sf) === 'Floats',
  )
  // The types the kernels name (besides their classes) come from the source file.
  const declared = new Set(sf.statements.flatMap((s) => (ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s) ? [s.name.text] : [])))
  const used = new Set<string>()
  const fns: string[] = []
  const rows: string[] = []
  for (const decl of generic) {
    const kernel = (decl.name as ts.Identifier).text
    const visit = (node: ts.Node): void => {
      if (ts.isTypeReferenceNode(node) && ts.isIdentifier(node.typeName) && declared.has(node.typeName.text)) used.add(node.typeName.text)
      ts.forEachChild(node, visit)
    }
    for (const part of [...decl.parameters, decl.type, decl.body]) if (part !== undefined) visit(part)
    const names = FLOATS.map((d) => ident(kernel, d))
    FLOATS.forEach((d, i) => fns.push(`/** \`${kernel}\` for ${ARRAY[d]} only. */\n${specialise(sf, decl, ARRAY[d], names[i])}`))
    rows.push(`  ${kernel}: { float32: ${names[0]}, float64: ${names[1]} },`)
  }
  const from = relative(dirname(target), source).replace(/\\/g, '/')
  const text = [
    header(`the generic kernels of ${source}`),
    used.size === 0 ? '' : `import type { ${[...used].sort().join(', ')} } from '${from.startsWith('.') ? from : `./${from}`}'\n`,
    ...fns,
    '/** The per-class copies of each kernel generic over Floats, by kernel name. */',
    `export const PER_CLASS = {\n${rows.join('\n')}\n} as const\n`,
  ]
  return [target, text.join('\n')]
}

/** The optim package's generated file, by path from the repository's root. */
export function optimFiles(root: string): Map<string, string> {
  return new Map([perClassFile(root, OPTIM_KERNELS, 'packages/optim/src/kernels.generated.ts')])
}

/** Core's kernels written once generic over Floats (log-softmax), by path from the repository's root. */
export function corePerClassFiles(root: string): Map<string, string> {
  return new Map([perClassFile(root, 'packages/core/src/kernels/softmax.ts', 'packages/core/src/kernels/generated/softmax.ts')])
}
