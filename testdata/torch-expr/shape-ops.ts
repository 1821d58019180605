/**
 * The shape and indexing side of the evaluator: the `torch.*` entries that move, join, split
 * and pick elements, and Python subscripts (`a[:, 0:9:2]`, `a[..., None]`, `a[:, [2, 0]]`).
 */
import {
  type SliceArg, Tensor, broadcastTo, concat, flatten, gather, indexAdd, indexSelect, mul, permute, reshape, scatterAdd, slice, split,
  squeeze, stack, tensor, transpose, unsqueeze,
} from '@graphgrad/core'
import { type Node, TorchExprError } from './parse.ts'
import { type Signature, type Value, describeValue, isMaxResult } from './values.ts'

/** Shape and indexing `torch.*` functions (Tensor methods take the tensor as `input`). */
export const TORCH_SHAPE: Record<string, Signature> = {
  transpose: { params: ['input', 'dim0', 'dim1'], required: 3, run: (a) => transpose(a.tensor('input'), a.int('dim0'), a.int('dim1')) },
  swapaxes: { params: ['input', 'axis0', 'axis1'], required: 3, run: (a) => transpose(a.tensor('input'), a.int('axis0'), a.int('axis1')) },
  t: { params: ['input'], run: (a) => (a.tensor('input').rank < 2 ? a.tensor('input') : transpose(a.tensor('input'), 0, 1)) },
  permute: { params: ['input', 'dims'], required: 2, run: (a) => permute(a.tensor('input'), a.ints('dims')) },
  reshape: { params: ['input', 'shape'], required: 2, run: (a) => reshape(a.tensor('input'), a.ints('shape')) },
  flatten: { params: ['input', 'start_dim', 'end_dim'], run: (a) => flatten(a.tensor('input'), a.int('start_dim', 0), a.int('end_dim', -1)) },
  squeeze: { params: ['input', 'dim'], run: (a) => squeeze(a.tensor('input'), a.has('dim') ? a.ints('dim') : undefined) },
  unsqueeze: { params: ['input', 'dim'], required: 2, run: (a) => unsqueeze(a.tensor('input'), a.int('dim')) },
  broadcast_to: { params: ['input', 'size'], required: 2, run: (a) => broadcastTo(a.tensor('input'), a.ints('size')) },
  cat: { params: ['tensors', 'dim'], run: (a) => concat(a.tensors('tensors'), a.int('dim', 0)) },
  stack: { params: ['tensors', 'dim'], run: (a) => stack(a.tensors('tensors'), a.int('dim', 0)) },
  split: {
    params: ['tensor', 'split_size_or_sections', 'dim'], required: 2,
    run: (a) => {
      const s = a.raw('split_size_or_sections')
      return split(a.tensor('tensor'), typeof s === 'number' ? a.int('split_size_or_sections') : a.ints('split_size_or_sections'), a.int('dim', 0))
    },
  },
  gather: { params: ['input', 'dim', 'index'], required: 3, run: (a) => gather(a.tensor('input'), a.int('dim'), a.tensor('index')) },
  scatter_add: { params: ['input', 'dim', 'index', 'src'], required: 4, run: (a) => scatterAdd(a.tensor('input'), a.int('dim'), a.tensor('index'), a.tensor('src')) },
  index_add: {
    params: ['input', 'dim', 'index', 'source', 'alpha'], required: 4,
    run: (a) => indexAdd(a.tensor('input'), a.int('dim'), a.tensor('index'), mul(a.tensor('source'), a.num('alpha', 1))),
  },
  narrow: {
    params: ['input', 'dim', 'start', 'length'], required: 4,
    run: (a) => {
      const x = a.tensor('input')
      const d = a.int('dim') < 0 ? a.int('dim') + x.rank : a.int('dim')
      const start = a.int('start') < 0 ? a.int('start') + x.shape[d] : a.int('start')
      return slice(x, [...new Array<SliceArg>(d).fill(null), { start, stop: start + a.int('length') }])
    },
  },
  select: {
    params: ['input', 'dim', 'index'], required: 3,
    run: (a) => {
      const x = a.tensor('input')
      const d = a.int('dim') < 0 ? a.int('dim') + x.rank : a.int('dim')
      return slice(x, [...new Array<SliceArg>(d).fill(null), a.int('index')])
    },
  },
  chunk: {
    params: ['input', 'chunks', 'dim'], required: 2,
    run: (a) => {
      const x = a.tensor('input')
      const d = a.int('dim', 0)
      return split(x, Math.ceil(x.shape[d < 0 ? d + x.rank : d] / a.int('chunks')), d)
    },
  },
  index_select: { params: ['input', 'dim', 'index'], required: 3, run: (a) => indexSelect(a.tensor('input'), a.int('dim'), a.tensor('index')) },
}
TORCH_SHAPE.concat = TORCH_SHAPE.cat
TORCH_SHAPE.concatenate = TORCH_SHAPE.cat

function intOf(v: Value, what: string): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v
  if (typeof v === 'boolean') return v ? 1 : 0
  throw new TorchExprError(`${what} must be an integer, got ${describeValue(v)}`)
}

/** `obj[items]`; `ev` evaluates an item expression in the caller's environment. */
export function subscript(obj: Value, items: Node[], ev: (n: Node) => Value): Value {
  const evalBound = (n: Node): number | null => {
    const v = ev(n)
    return v === null ? null : intOf(v, 'slice bound')
  }
  if (Array.isArray(obj) || isMaxResult(obj)) {
    const seq: Value[] = Array.isArray(obj) ? obj : [obj.values, obj.indices]
    if (items.length !== 1) throw new TorchExprError('a sequence takes a single index')
    const i = intOf(ev(items[0]), 'sequence index')
    const k = i < 0 ? i + seq.length : i
    if (k < 0 || k >= seq.length) throw new TorchExprError(`index ${i} out of range for a sequence of ${seq.length}`)
    return seq[k]
  }
  if (!(obj instanceof Tensor)) throw new TorchExprError(`cannot subscript ${describeValue(obj)}`)
  // Evaluate the items; None inserts an axis, `...` stands for as many whole axes as needed.
  type Item = SliceArg | 'none' | 'ellipsis' | Tensor
  const parts: Item[] = items.map((n): Item => {
    if (n.type === 'ellipsis') return 'ellipsis'
    if (n.type === 'slice') {
      const b = (m: Node | null): number | null => (m === null ? null : evalBound(m))
      const step = b(n.step)
      if (step !== null && step <= 0) throw new TorchExprError('slice step must be positive (as in PyTorch)')
      const range = { start: b(n.start), stop: b(n.stop), step: step ?? 1 }
      return range.start === null && range.stop === null && range.step === 1 ? null : range
    }
    const v = ev(n)
    if (v === null) return 'none'
    if (Array.isArray(v) && v.length > 0 && v.every((k) => typeof k === 'number' && Number.isInteger(k))) {
      return tensor(Int32Array.from(v as number[]), { shape: [v.length] })
    }
    if (v instanceof Tensor) {
      if (v.dtype !== 'int32') throw new TorchExprError('only integer tensors can index (no masks)')
      return v
    }
    return intOf(v, 'index')
  })
  if (parts.filter((q) => q === 'ellipsis').length > 1) throw new TorchExprError("an index can only have a single ellipsis ('...')")
  const consuming = parts.filter((q) => q !== 'none' && q !== 'ellipsis').length
  if (consuming > obj.rank) throw new TorchExprError(`too many indices for a tensor of rank ${obj.rank}`)
  const expanded: Item[] = parts.flatMap((q) => (q === 'ellipsis' ? new Array<Item>(obj.rank - consuming).fill(null) : [q]))
  const tensors = expanded.filter((q): q is Tensor => q instanceof Tensor)
  // One integer tensor among slices is a slice then index_select at its axis. With integers or a
  // second tensor, PyTorch moves the indexed dimensions around: out of scope here.
  if (tensors.length > 1 || (tensors.length === 1 && expanded.some((q) => typeof q === 'number'))) {
    throw new TorchExprError('advanced indexing is only supported as one integer tensor (or list) among slices')
  }
  const spec: SliceArg[] = []
  const inserted: number[] = []
  let selectAxis = -1
  let outAxis = 0
  for (const q of expanded) {
    if (q === 'none') { inserted.push(outAxis++); continue }
    if (q instanceof Tensor) selectAxis = outAxis
    spec.push(q instanceof Tensor ? null : (q as SliceArg))
    if (typeof q !== 'number') outAxis++
  }
  let out = slice(obj, spec)
  for (const a of inserted) out = unsqueeze(out, a)
  return selectAxis < 0 ? out : indexSelect(out, selectAxis, tensors[0])
}
