/**
 * Transformer layers, as `nn.TransformerEncoderLayer` and `nn.TransformerDecoderLayer`: the
 * same parameter names (`self_attn.in_proj_weight`, `linear1.weight`, `norm1.bias`, ...),
 * defaults, post-norm or pre-norm (`normFirst`) residual blocks, and dropout sites. Dropout
 * is active in training mode (`{ train: true, key }`) and draws a different mask per site
 * from the call's key.
 * @module
 */
import { ArgumentError, GraphgradError, ShapeError, add, fmtShape, foldIn, gelu, mapTree, relu } from '@graphgrad/core'
import type { CaseSampler, DType, GradSpec, Seed, Tensor } from '@graphgrad/core'
import { OrderedMap } from 'immutable'
import { type MultiheadAttentionCallOptions, checkProbability, multiHeadAttention, subParams } from './attention.ts'
import { checkInput, checkOptions, checkSize } from './compose.ts'
import { applyDropout } from './dropout.ts'
import type { ApplyOptions, Layer, Params } from './layer.ts'
import { linear } from './linear.ts'
import { layerNorm } from './norm.ts'

/** Options of {@link transformerEncoderLayer} and {@link transformerDecoderLayer}: PyTorch's arguments in camelCase. */
export interface TransformerLayerOptions {
  /** The model size E: the last dimension of inputs and output. */
  dModel: number
  /** Number of attention heads; must divide `dModel`. */
  nhead: number
  /** Hidden size of the feed-forward block (default 2048). */
  dimFeedforward?: number
  /** Dropout probability at every site, in training mode (default 0.1). */
  dropout?: number
  /** The feed-forward activation: `'relu'` (default), `'gelu'` (exact, as `F.gelu`) or a function. */
  activation?: 'relu' | 'gelu' | ((x: Tensor) => Tensor)
  /** The layer norms' eps (default 1e-5). */
  layerNormEps?: number
  /** Inputs and output are `[batch, seq, feature]` (default false: `[seq, batch, feature]`). */
  batchFirst?: boolean
  /** Normalise before each block instead of after the residual sum (default false: post-norm). */
  normFirst?: boolean
  /** Parameter dtype (default float32). */
  dtype?: DType
}

/** Per-call options of {@link transformerEncoderLayer}: `forward`'s masks, and `train` / `key` for dropout. */
export interface TransformerEncoderCallOptions extends ApplyOptions {
  /** The self-attention mask `[S, S]` or `[N * nhead, S, S]` (int32 non-zero blocks, float is added). */
  srcMask?: Tensor
  /** `[N, S]`: int32 non-zero marks padding positions of the source, or float added. */
  srcKeyPaddingMask?: Tensor
  /** Causal self-attention (position i sees j <= i); not together with `srcMask`. */
  isCausal?: boolean
}

/** The input of {@link transformerDecoderLayer}: `forward`'s `tgt` and `memory` (the encoder's output). */
export interface TransformerDecoderInputs {
  /** `[T, N, E]` (`[N, T, E]` batch-first, `[T, E]` unbatched). */
  readonly tgt: Tensor
  /** `[S, N, E]` (`[N, S, E]` batch-first, `[S, E]` unbatched). */
  readonly memory: Tensor
}

/** Per-call options of {@link transformerDecoderLayer}: `forward`'s masks, and `train` / `key` for dropout. */
export interface TransformerDecoderCallOptions extends ApplyOptions {
  /** The self-attention mask `[T, T]` or `[N * nhead, T, T]`. */
  tgtMask?: Tensor
  /** The cross-attention mask `[T, S]` or `[N * nhead, T, S]`. */
  memoryMask?: Tensor
  /** `[N, T]`: padding positions of the target. */
  tgtKeyPaddingMask?: Tensor
  /** `[N, S]`: padding positions of the memory. */
  memoryKeyPaddingMask?: Tensor
  /** Causal self-attention over the target; not together with `tgtMask`. */
  tgtIsCausal?: boolean
}

/** Runs `fn`, prefixing the message of a graphgrad error with `where` (same error class). */
function within<T>(where: string, fn: () => T): T {
  try {
    return fn()
  } catch (e) {
    if (!(e instanceof GraphgradError)) throw e
    const Kind = e.constructor as new (message: string) => GraphgradError
    throw new Kind(`${where}: ${e.message}`)
  }
}

/** The pieces both layers share, built and checked once. */
function build(options: TransformerLayerOptions, where: string) {
  checkOptions(
    options,
    { dModel: true, nhead: true, dimFeedforward: true, dropout: true, activation: true, layerNormEps: true, batchFirst: true, normFirst: true, dtype: true },
    where,
  )
  const e = checkSize(options.dModel, 'dModel', where)
  const heads = checkSize(options.nhead, 'nhead', where)
  if (e % heads !== 0) throw new ArgumentError(`${where}: dModel=${e} must be divisible by nhead=${heads}`)
  const ff = checkSize(options.dimFeedforward ?? 2048, 'dimFeedforward', where)
  const p = checkProbability(options.dropout ?? 0.1, 'dropout', where)
  const act = options.activation ?? 'relu'
  const activation = act === 'relu' ? relu : act === 'gelu' ? (x: Tensor) => gelu(x) : act
  if (typeof activation !== 'function') throw new ArgumentError(`${where}: activation must be 'relu', 'gelu' or a function, got ${String(act)}`)
  const batchFirst = options.batchFirst ?? false
  const dtype = options.dtype ?? 'float32'
  const attention = multiHeadAttention({ embedDim: e, numHeads: heads, dropout: p, batchFirst, dtype })
  const linear1 = linear({ inFeatures: e, outFeatures: ff, dtype })
  const linear2 = linear({ inFeatures: ff, outFeatures: e, dtype })
  const norm = layerNorm({ normalizedShape: e, eps: options.layerNormEps ?? 1e-5, dtype })
  const layout = (seq: string): string => (batchFirst ? `[N, ${seq}, E]` : `[${seq}, N, E]`)
  /** Throws unless `x` is a `[seq, N, E]`-like input with E = dModel (and the batch size of `like`). */
  const checkSeq = (x: unknown, name: string, seq: string, like?: Tensor): Tensor => {
    checkInput(x, where, name)
    const batchAxis = batchFirst ? 0 : 1
    const ok =
      (x.rank === 3 || x.rank === 2) &&
      x.shape[x.rank - 1] === e &&
      (like === undefined || (x.rank === like.rank && (x.rank === 2 || x.shape[batchAxis] === like.shape[batchAxis])))
    if (!ok)
      throw new ShapeError(
        `${where}: ${name} must be ${layout(seq)} (or [${seq}, E] unbatched) with E = dModel = ${e}${like === undefined ? '' : ` and the batch of ${fmtShape(like.shape)}`}, got shape ${fmtShape(x.shape)}`,
      )
    return x
  }
  const keyFor = (call: ApplyOptions, site: number): Seed | undefined => (call.key === undefined ? undefined : foldIn(call.key, site))
  const checkKey = (call: ApplyOptions): void => {
    if (call.train === true && p > 0 && call.key === undefined)
      throw new ArgumentError(`${where}: training mode with dropout=${p} needs a key (pass { train: true, key })`)
  }
  const drop = (x: Tensor, call: ApplyOptions, site: number): Tensor => applyDropout(x, { p, train: call.train, key: keyFor(call, site) })
  const attend = (
    params: Params,
    name: string,
    query: Tensor,
    memory: Tensor,
    masks: MultiheadAttentionCallOptions,
    call: ApplyOptions,
    site: number,
  ): Tensor =>
    within(
      `${where} ${name}`,
      () =>
        attention.apply(
          subParams(params, name, where),
          { query, key: memory, value: memory },
          { ...masks, needWeights: false, train: call.train, key: keyFor(call, site) },
        ).output,
    )
  /** `linear2(dropout(activation(linear1(x))))`, the dropout at `site`. */
  const feedForward = (params: Params, x: Tensor, call: ApplyOptions, site: number): Tensor =>
    linear2.apply(subParams(params, 'linear2', where), drop(activation(linear1.apply(subParams(params, 'linear1', where), x)), call, site))
  const normed = (params: Params, name: string, x: Tensor): Tensor => norm.apply(subParams(params, name, where), x)
  /** One residual block: `x + block(norm(x))` when norm-first, else `norm(x + block(x))`. */
  const residual = (params: Params, normName: string, x: Tensor, block: (y: Tensor) => Tensor): Tensor =>
    options.normFirst === true ? add(x, block(normed(params, normName, x))) : normed(params, normName, add(x, block(x)))
  const initAll = (seed: Seed, names: readonly string[]): Params => {
    const layers: Record<string, { init(seed: Seed): Params }> = {
      self_attn: attention,
      multihead_attn: attention,
      linear1,
      linear2,
      norm1: norm,
      norm2: norm,
      norm3: norm,
    }
    return OrderedMap(names.map((n, i) => [n, layers[n].init(foldIn(seed, i))] as [string, Params])) as Params
  }
  return { checkSeq, checkKey, drop, attend, feedForward, residual, initAll }
}

/**
 * A transformer encoder layer, as `nn.TransformerEncoderLayer`: self-attention and a
 * feed-forward block, each with a residual connection and a layer norm (after, or before
 * with `normFirst`). `apply(params, src, { srcMask, srcKeyPaddingMask, isCausal, train, key })`
 * maps `src` `[S, N, E]` (`[N, S, E]` batch-first) to the same shape. Parameters
 * `self_attn.*` (see {@link multiHeadAttention}), `linear1.*` `[dimFeedforward, E]`,
 * `linear2.*` `[E, dimFeedforward]`, `norm1.*`, `norm2.*`, initialised as PyTorch's.
 */
export function transformerEncoderLayer(options: TransformerLayerOptions): Layer<Tensor, Tensor, TransformerEncoderCallOptions> {
  const W = 'transformerEncoderLayer'
  const b = build(options, W)
  return {
    init: (seed) => b.initAll(seed, ['self_attn', 'linear1', 'linear2', 'norm1', 'norm2']),
    apply(params, src, call = {}) {
      const x = b.checkSeq(src, 'src', 'S')
      b.checkKey(call)
      const masks = { attnMask: call.srcMask, keyPaddingMask: call.srcKeyPaddingMask, isCausal: call.isCausal }
      const sa = (y: Tensor): Tensor => b.drop(b.attend(params, 'self_attn', y, y, masks, call, 0), call, 2)
      const ff = (y: Tensor): Tensor => b.drop(b.feedForward(params, y, call, 1), call, 3)
      return b.residual(params, 'norm2', b.residual(params, 'norm1', x, sa), ff)
    },
  }
}

/**
 * A transformer decoder layer, as `nn.TransformerDecoderLayer`: self-attention over the
 * target, attention over the encoder's `memory` (`multihead_attn.*`), and a feed-forward
 * block, each with a residual connection and a layer norm (`norm1`, `norm2`, `norm3`).
 * `apply(params, { tgt, memory }, { tgtMask, memoryMask, tgtKeyPaddingMask,
 * memoryKeyPaddingMask, tgtIsCausal, train, key })` gives the target's shape.
 */
export function transformerDecoderLayer(options: TransformerLayerOptions): Layer<TransformerDecoderInputs, Tensor, TransformerDecoderCallOptions> {
  const W = 'transformerDecoderLayer'
  const b = build(options, W)
  return {
    init: (seed) => b.initAll(seed, ['self_attn', 'multihead_attn', 'linear1', 'linear2', 'norm1', 'norm2', 'norm3']),
    apply(params, input, call = {}) {
      if (typeof input !== 'object' || input === null || !('tgt' in input) || !('memory' in input)) {
        checkInput(input, W, 'the input ({ tgt, memory })')
        throw new ArgumentError(`${W}: the input must be { tgt, memory }, got a Tensor; the encoder's output is the memory`)
      }
      const x = b.checkSeq(input.tgt, 'tgt', 'T')
      const memory = b.checkSeq(input.memory, 'memory', 'S', x)
      b.checkKey(call)
      const selfMasks = { attnMask: call.tgtMask, keyPaddingMask: call.tgtKeyPaddingMask, isCausal: call.tgtIsCausal }
      const crossMasks = { attnMask: call.memoryMask, keyPaddingMask: call.memoryKeyPaddingMask }
      const sa = (y: Tensor): Tensor => b.drop(b.attend(params, 'self_attn', y, y, selfMasks, call, 0), call, 3)
      const ca = (y: Tensor): Tensor => b.drop(b.attend(params, 'multihead_attn', y, memory, crossMasks, call, 1), call, 4)
      const ff = (y: Tensor): Tensor => b.drop(b.feedForward(params, y, call, 2), call, 5)
      return b.residual(params, 'norm3', b.residual(params, 'norm2', b.residual(params, 'norm1', x, sa), ca), ff)
    },
  }
}

/**
 * A gradient-check case over `inputs` and every parameter of `template` (values in [-1, 1]):
 * `run` gets the parameter tree rebuilt from the checked tensors and the inputs.
 */
function allParams(
  s: CaseSampler,
  template: Params,
  inputs: Tensor[],
  run: (params: Params, xs: Tensor[]) => Tensor,
): { inputs: Tensor[]; fn: (...xs: Tensor[]) => Tensor } {
  const values: Tensor[] = []
  mapTree(template, (t) => {
    values.push(s.values(t.shape, { min: -1, max: 1 }))
    return t
  })
  const fn = (...xs: Tensor[]): Tensor =>
    run(
      mapTree(template, (_, i) => xs[inputs.length + i]),
      xs.slice(0, inputs.length),
    )
  return { inputs: [...inputs, ...values], fn }
}

/** Small random options of a transformer layer (eval mode, so dropout is off). */
function smallOptions(s: CaseSampler): Required<Pick<TransformerLayerOptions, 'dModel' | 'nhead' | 'batchFirst' | 'normFirst'>> & TransformerLayerOptions {
  const nhead = s.int(1, 2)
  return {
    dModel: nhead === 1 ? 3 : 4,
    nhead,
    dimFeedforward: s.int(2, 3),
    activation: s.pick(['relu', 'gelu'] as const),
    batchFirst: s.coin(),
    normFirst: s.coin(),
    dtype: 'float64',
  }
}

const describe = (o: TransformerLayerOptions): string =>
  `E=${o.dModel} heads=${o.nhead} ff=${o.dimFeedforward} ${String(o.activation)}${o.normFirst === true ? ' norm-first' : ''}${o.batchFirst === true ? ' batch-first' : ''}`

/** Gradient-check specs: both layers in eval mode, with respect to the inputs and every parameter. */
export const transformerSpecs: Record<string, GradSpec> = {
  transformerEncoderLayer: {
    sample: (s: CaseSampler) => {
      const o = smallOptions(s)
      const [n, len] = [s.int(1, 2), s.int(1, 3)]
      const layer = transformerEncoderLayer(o)
      const src = s.values(o.batchFirst ? [n, len, o.dModel] : [len, n, o.dModel])
      const isCausal = s.coin()
      const c = allParams(s, layer.init(0), [src], (p, [x]) => layer.apply(p, x, { isCausal }))
      return { ...c, label: `${describe(o)} src ${fmtShape(src.shape)}${isCausal ? ' causal' : ''}` }
    },
  },
  transformerDecoderLayer: {
    sample: (s: CaseSampler) => {
      // One head and one sequence: the decoder has twice the attention parameters, and every one is checked.
      const o = { ...smallOptions(s), dModel: 3, nhead: 1 }
      const [n, t, len] = [1, s.int(1, 2), s.int(1, 2)]
      const layer = transformerDecoderLayer(o)
      const shape = (l: number): number[] => (o.batchFirst ? [n, l, o.dModel] : [l, n, o.dModel])
      const c = allParams(s, layer.init(0), [s.values(shape(t)), s.values(shape(len))], (p, [tgt, memory]) =>
        layer.apply(p, { tgt, memory }, { tgtIsCausal: true }),
      )
      return { ...c, label: `${describe(o)} tgt ${fmtShape(shape(t))} memory ${fmtShape(shape(len))}` }
    },
  },
}
