/**
 * `exportOnnx`: traces `f(params, ...inputs)` and writes the recorded computation as an ONNX
 * model. With dynamic axes, `f` is traced once more per axis at a size one larger, and every
 * dimension that moves is written as an expression of the axes' run-time sizes.
 * @module
 */
import { Tensor } from '@graphgrad/core'
import { traceForExport } from '@graphgrad/core/internal'
import { type Dim, GraphBuilder, type SymbolSource, fixedDim, isDynamic, onnxType } from './builder.ts'
import { CONV_POOL_MAPPINGS } from './conv-pool.ts'
import { MAPPINGS, type OpCall, UNSUPPORTED, refuseMissingDouble } from './ops.ts'
import { type DimMessage, ONNX_TYPE, type ValueInfoMessage, encodeModel } from './proto.ts'
import { SCAN_MAPPINGS, bidirectionalMapping, isBidirectionalPair } from './recurrent.ts'
import { type Signature, type Walk, signature, walk } from './walk.ts'

/** What the exported function may return: a tensor, an array of them, or an object of them (its keys name the outputs). */
export type ExportOutput = Tensor | readonly Tensor[] | { readonly [name: string]: Tensor }

/** Options of {@link exportOnnx}. */
export interface ExportOptions {
  /** Names of the graph inputs, one per example input (default `input_0`, `input_1`, ...). */
  inputNames?: readonly string[]
  /** Names of the graph outputs (default the returned object's keys, else `output_0`, ...). */
  outputNames?: readonly string[]
  /** torch.onnx's form: per input or output name, the axes left symbolic and their names, `{ tokens: { 0: 'batch', 1: 'seq' } }`. */
  dynamicAxes?: Readonly<Record<string, Readonly<Record<number, string>>>>
  /** The ONNX opset; only 17 is written (the default). */
  opset?: number
}

/** The ONNX IR version written with opset 17. */
const IR_VERSION = 8
const OPSET = 17

/** The outputs of `f` as a list with their default names. */
function flattenOutput(out: unknown): { tensors: Tensor[]; names: string[] } {
  if (out instanceof Tensor) return { tensors: [out], names: ['output'] }
  if (Array.isArray(out) && out.every((t) => t instanceof Tensor)) return { tensors: out.slice(), names: out.map((_, i) => `output_${i}`) }
  if (typeof out === 'object' && out !== null && Object.values(out).every((t) => t instanceof Tensor)) {
    return { tensors: Object.values(out) as Tensor[], names: Object.keys(out) }
  }
  throw new Error('exportOnnx: the function must return a Tensor, an array of Tensors, or an object of Tensors')
}

/** `x` with each axis in `grow` one larger, its values repeated cyclically from x's. */
function grown(x: Tensor, grow: ReadonlySet<number>): Tensor {
  const shape = x.shape.map((d, i) => (grow.has(i) ? d + 1 : d))
  const n = shape.reduce((a, b) => a * b, 1)
  const data = x._data.constructor as new (n: number) => typeof x._data
  const out = new data(n)
  for (let i = 0; i < n; i++) out[i] = x._data[i % x.size]
  return new Tensor(out, shape)
}

/** Fits one dimension across the traces: base size, then one trace per symbol with that symbol one larger. */
function fitDim(sizes: readonly number[], symbols: readonly string[], base: ReadonlyMap<string, number>, what: () => string): Dim {
  const moved = symbols.filter((_, k) => sizes[k + 1] !== sizes[0])
  if (moved.length === 0) return fixedDim(sizes[0])
  if (moved.length === 1) {
    const s = moved[0]
    const scale = sizes[symbols.indexOf(s) + 1] - sizes[0]
    return { scale, symbols: [s], offset: sizes[0] - scale * (base.get(s) as number) }
  }
  const product = moved.reduce((a, s) => a * (base.get(s) as number), 1)
  const scale = sizes[0] / product
  const fits =
    Number.isInteger(scale) && moved.every((s) => sizes[symbols.indexOf(s) + 1] === (scale * product * ((base.get(s) as number) + 1)) / (base.get(s) as number))
  if (!fits)
    throw new Error(`exportOnnx: ${what()} depends on the dynamic axes ${moved.join(', ')} in a way the exporter cannot express (sizes ${sizes.join(', ')})`)
  return { scale, symbols: moved, offset: 0 }
}

function dimName(d: Dim): DimMessage {
  if (!isDynamic(d)) return d.scale
  const product = d.symbols.join('*')
  const scaled = d.scale === 1 ? product : `${d.scale}*${product}`
  return d.offset === 0 ? scaled : `${scaled}${d.offset > 0 ? '+' : ''}${d.offset}`
}

/**
 * Exports `f(params, ...exampleInputs)` as the bytes of an ONNX model (opset 17, IR 8) that
 * ONNX Runtime loads: the parameters become initializers named by their paths
 * (`lstm.weight_ih_l0`), the inputs graph inputs (int32 ones declared int64 and cast), the
 * results graph outputs. Throws, naming it, on an op with no ONNX mapping.
 * @example
 * const bytes = exportOnnx((p, x) => model.apply(p, x), params, [x], { inputNames: ['x'], dynamicAxes: { x: { 0: 'batch' } } })
 */
export function exportOnnx<P, I extends readonly Tensor[]>(
  f: (params: P, ...inputs: I) => ExportOutput,
  params: P,
  exampleInputs: I,
  options: ExportOptions = {},
): Uint8Array {
  const opset = options.opset ?? OPSET
  if (opset !== OPSET) throw new Error(`exportOnnx: opset ${opset} is not written; only opset ${OPSET} is (ONNX Runtime supports it widely)`)
  if (!Array.isArray(exampleInputs) || !exampleInputs.every((x) => x instanceof Tensor))
    throw new Error('exportOnnx: exampleInputs must be an array of Tensors')
  const inputNames = exampleInputs.map((_, i) => options.inputNames?.[i] ?? `input_${i}`)
  const dynamic = options.dynamicAxes ?? {}
  // Each symbol's size in the example, and the graph input that carries it.
  const base = new Map<string, number>()
  const sources = new Map<string, SymbolSource>()
  const grows: Map<string, Set<number>>[] = []
  inputNames.forEach((name, i) => {
    for (const [axisText, symbol] of Object.entries(dynamic[name] ?? {})) {
      const axis = Number(axisText)
      const size = exampleInputs[i].shape[axis]
      if (size === undefined)
        throw new Error(`exportOnnx: dynamicAxes names axis ${axis} of input '${name}', which has shape [${exampleInputs[i].shape.join(', ')}]`)
      if (base.has(symbol) && base.get(symbol) !== size)
        throw new Error(`exportOnnx: the dynamic axis '${symbol}' has size ${base.get(symbol)} in one input and ${size} in '${name}'`)
      base.set(symbol, size)
      if (!sources.has(symbol)) sources.set(symbol, { value: name, axis })
    }
  })
  const symbols = [...base.keys()]
  for (const s of symbols) {
    grows.push(
      new Map(
        inputNames.map((name) => [
          name,
          new Set(
            Object.entries(dynamic[name] ?? {})
              .filter(([, v]) => v === s)
              .map(([a]) => Number(a)),
          ),
        ]),
      ),
    )
  }
  const call = (...args: unknown[]): unknown => f(...(args as [P, ...I]))
  const variants: Signature[] = grows.map((grow, k) => {
    const inputs = exampleInputs.map((x, i) => grown(x, grow.get(inputNames[i]) as Set<number>))
    try {
      return traceForExport(call, [params as unknown, ...inputs], (trace) => signature(walk(trace, flattenOutput(trace.result).tensors)))
    } catch (e) {
      throw new Error(`exportOnnx: tracing with the dynamic axis '${symbols[k]}' one larger failed: ${(e as Error).message}`)
    }
  })
  return traceForExport(call, [params as unknown, ...exampleInputs], (trace) => {
    const out = flattenOutput(trace.result)
    const w = walk(trace, out.tensors)
    const sig = signature(w)
    for (const v of variants) {
      const same = v.nodes.length === sig.nodes.length && v.nodes.every((n, i) => n.op === sig.nodes[i].op)
      if (!same)
        throw new Error(
          'exportOnnx: the traced graph changes with the size of a dynamic axis (a loop over it, or a branch on it); export without dynamicAxes, or make the loop an op',
        )
    }
    const outputNames = out.names.map((n, i) => options.outputNames?.[i] ?? n)
    return build(w, trace.paths[0], exampleInputs, inputNames, outputNames, out.tensors, { symbols, base, sources, variants, dynamic, opset })
  })
}

interface Context {
  readonly symbols: readonly string[]
  readonly base: ReadonlyMap<string, number>
  readonly sources: ReadonlyMap<string, SymbolSource>
  readonly variants: readonly Signature[]
  readonly dynamic: Readonly<Record<string, Readonly<Record<number, string>>>>
  readonly opset: number
}

function build(
  w: Walk,
  paramPaths: readonly string[],
  examples: readonly Tensor[],
  inputNames: readonly string[],
  outputNames: readonly string[],
  outputs: readonly Tensor[],
  cx: Context,
): Uint8Array {
  const g = new GraphBuilder(cx.sources)
  for (const n of [...inputNames, ...outputNames]) if (!g.claim(n)) throw new Error(`exportOnnx: the name '${n}' is used twice among the inputs and outputs`)
  const values = new Map<Tensor, string>()
  const key = (t: Tensor): string => w.keys.get(t) as string
  const dims = (t: Tensor): Dim[] =>
    t.shape.map((d, axis) =>
      fitDim(
        [d, ...cx.variants.map((v) => (v.shapes.get(key(t)) as readonly number[])[axis])],
        cx.symbols,
        cx.base,
        () => `dimension ${axis} of a tensor of shape [${t.shape.join(', ')}]`,
      ),
    )
  const graphInputs: ValueInfoMessage[] = examples.map((x, i) => {
    const named = cx.dynamic[inputNames[i]] ?? {}
    return { name: inputNames[i], elemType: x.dtype === 'int32' ? ONNX_TYPE.INT64 : onnxType(x.dtype), dims: x.shape.map((d, a) => named[a] ?? d) }
  })
  const constant = (t: Tensor): string => {
    const moved = cx.variants.map((v) => v.scalars.get(key(t)) as number)
    if (t.size === 1 && moved.some((v) => v !== t._data[0])) {
      // A number computed from a dynamic size (a mean's count): the same expression of the run-time sizes.
      const n = fitDim([t._data[0], ...moved], cx.symbols, cx.base, () => `a constant ${t._data[0]}`)
      const cast = g.op('Cast', [g.dimValue(n)], { to: { int: onnxType(t.dtype) } })
      return g.op('Reshape', [cast, g.int64s(t.shape.slice())])
    }
    const d = dims(t)
    if (!d.some(isDynamic)) return g.fromTensor('const', t)
    const first = t._data[0]
    if (!t._data.every((v) => v === first))
      throw new Error(
        `exportOnnx: a constant of shape [${t.shape.join(', ')}] (a tensor the function created) changes size with a dynamic axis and is not uniform; compute it from the inputs instead`,
      )
    return g.op('Expand', [g.scalar(first, t.dtype), g.shape(d)])
  }
  const valueOf = (t: Tensor): string => {
    const known = values.get(t)
    if (known !== undefined) return known
    const origin = w.origins.get(t)
    if (origin === undefined || origin.kind === 'op') throw new Error('exportOnnx: internal error: a tensor was used before its op was written')
    let v: string
    if (origin.kind === 'constant') v = constant(t)
    else if (origin.arg === 0) v = g.fromTensor(paramPaths[origin.index] || 'param', t, true)
    else {
      const name = inputNames[origin.arg - 1]
      v = t.dtype === 'int32' ? g.op('Cast', [name], { to: { int: ONNX_TYPE.INT32 } }) : name
    }
    values.set(t, v)
    return v
  }
  const isZeroConstant = (t: Tensor): boolean => w.origins.get(t)?.kind === 'constant' && t._data.every((v) => v === 0)
  const callOf = (node: Walk['nodes'][number], nodeIndex: number): OpCall => {
    const results = w.results.get(node) as readonly (Tensor | undefined)[]
    const first = results.find((t) => t !== undefined) as Tensor
    return {
      op: node.op,
      inputs: node.inputs.map(valueOf),
      inputTensors: node.inputs,
      outputs: results.map((t) => t ?? first),
      attributes: node.attributes ?? {},
      across: [
        { attributes: node.attributes ?? {}, inputShape: node.inputs[0]?.shape ?? [] },
        ...cx.variants.map((v) => ({ attributes: v.nodes[nodeIndex].attributes, inputShape: v.shapes.get(inputKey(w, node)) ?? [] })),
      ],
      value: valueOf,
      dims,
      isZeroConstant,
    }
  }
  const pairs = bidirectionalPairs(w)
  const deferred = new Set(pairs.keys())
  for (const [nodeIndex, node] of w.nodes.entries()) {
    const mapping = MAPPINGS[node.op] ?? CONV_POOL_MAPPINGS[node.op] ?? SCAN_MAPPINGS[node.op]
    const shapes = node.inputs.map((x) => `[${x.shape.join(', ')}]`).join(', ')
    if (mapping === undefined) {
      const reason = UNSUPPORTED[node.op]
      throw new Error(
        `exportOnnx: the op '${node.op}' (node ${nodeIndex} of the traced graph, inputs of shapes ${shapes}) ${reason === undefined ? 'has no ONNX mapping' : `is not exported: ${reason}`}`,
      )
    }
    // A bidirectional layer's forward scan is written with its reverse one, as one node.
    if (deferred.has(nodeIndex)) continue
    const forwardIndex = [...pairs].find(([, r]) => r === nodeIndex)?.[0]
    const written = g.nodes.length
    try {
      if (forwardIndex === undefined) {
        const call = callOf(node, nodeIndex)
        const names = mapping(g, call)
        refuseMissingDouble(
          call,
          g.nodes.slice(written).map((n) => n.opType),
        )
        ;(w.results.get(node) as readonly (Tensor | undefined)[]).forEach((t, k) => t !== undefined && values.set(t, names[k]))
      } else {
        const forward = w.nodes[forwardIndex]
        const call = callOf(node, nodeIndex)
        const [fNames, rNames] = bidirectionalMapping(g, callOf(forward, forwardIndex), call)
        refuseMissingDouble(
          call,
          g.nodes.slice(written).map((n) => n.opType),
        )
        ;(w.results.get(forward) as readonly (Tensor | undefined)[]).forEach((t, k) => t !== undefined && values.set(t, fNames[k]))
        ;(w.results.get(node) as readonly (Tensor | undefined)[]).forEach((t, k) => t !== undefined && values.set(t, rNames[k]))
      }
    } catch (e) {
      throw new Error(
        `exportOnnx: ${(e as Error).message.replace(/^exportOnnx: /, '')} (node ${nodeIndex} of the traced graph, op '${node.op}', inputs of shapes ${shapes})`,
      )
    }
  }
  const graphOutputs: ValueInfoMessage[] = outputs.map((t, i) => {
    if (w.origins.get(t)?.kind === 'constant') throw new Error(`exportOnnx: output '${outputNames[i]}' does not depend on any input or parameter`)
    g.node('Identity', [valueOf(t)], {}, [outputNames[i]])
    const named = cx.dynamic[outputNames[i]] ?? {}
    return { name: outputNames[i], elemType: onnxType(t.dtype), dims: dims(t).map((d, a) => (isDynamic(d) ? (named[a] ?? dimName(d)) : d.scale)) }
  })
  // A graph input nothing reads would still have to be fed at run time: refuse it by name.
  const reached = new Set([...w.origins.values()].flatMap((o) => (o.kind === 'leaf' ? [o.arg] : [])))
  examples.forEach((x, i) => {
    if (!reached.has(i + 1))
      throw new Error(
        `exportOnnx: no output depends on the input '${inputNames[i]}' (input ${i} of ${examples.length}, shape [${x.shape.join(', ')}]); remove it from the function's inputs, or use it`,
      )
  })
  // Constants a mapping read but left out (a zero initial state) are not written: ONNX Runtime warns about unused initializers.
  const read = new Set(g.nodes.flatMap((n) => n.inputs))
  return encodeModel({
    irVersion: IR_VERSION,
    opset: cx.opset,
    producerName: 'graphgrad',
    producerVersion: '0.2.0',
    graphName: 'graphgrad',
    nodes: g.nodes,
    initializers: g.initializers.filter((t) => read.has(t.name)),
    inputs: graphInputs,
    outputs: graphOutputs,
  })
}

/**
 * The bidirectional layers among the recorded scans: forward scan's node index to its reverse
 * scan's, when the reverse one follows and nothing between them reads the forward one's results.
 */
function bidirectionalPairs(w: Walk): Map<number, number> {
  const pairs = new Map<number, number>()
  const taken = new Set<number>()
  w.nodes.forEach((fwd, i) => {
    if (SCAN_MAPPINGS[fwd.op] === undefined) return
    const produced = new Set(w.results.get(fwd))
    for (let j = i + 1; j < w.nodes.length; j++) {
      const n = w.nodes[j]
      if (!taken.has(j) && isBidirectionalPair(fwd, n)) {
        pairs.set(i, j)
        taken.add(j)
        return
      }
      const reads = [...n.inputs, ...Object.values(n.attributes ?? {})].some((t) => t instanceof Tensor && produced.has(t))
      if (reads) return
    }
  })
  return pairs
}

function inputKey(w: Walk, node: { inputs: readonly Tensor[] }): string {
  return node.inputs.length === 0 ? '' : (w.keys.get(node.inputs[0]) as string)
}
