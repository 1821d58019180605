/**
 * The masks of attention as scores added before the softmax: an int32 mask (non-zero where
 * attention is not allowed, PyTorch's `True`) becomes `-Infinity`, a float mask is added as it
 * is; the causal mask; and the combination of a multi-head call's masks.
 * @module
 */
import { ArgumentError, ShapeError, add, astype, fmtShape, log, notEqual, reshape, sub, tensor } from '@graphgrad/core'
import type { DType, Tensor } from '@graphgrad/core'
import { checkInput } from './compose.ts'
import type { MultiheadAttentionCallOptions } from './attention.ts'

/**
 * @internal A mask as scores to add: int32 non-zero becomes `-Infinity` and zero becomes 0;
 * a float mask is cast to `dtype` (and stays differentiable).
 */
export function additiveMask(mask: unknown, dtype: DType, where: string, name: string): Tensor {
  checkInput(mask, where, name)
  if (mask.dtype !== 'int32') return astype(mask, dtype)
  // log(1 - blocked) is exactly -Infinity where blocked and 0 elsewhere. Written with ops on the
  // mask, not a loop over its data, so that a traced function (an ONNX export) keeps it an input.
  return log(sub(1, astype(notEqual(mask, 0), dtype)))
}

/** The causal mask `[L, S]` as scores to add: `-Infinity` where j > i. */
export function causalMask(l: number, s: number, dtype: DType): Tensor {
  const out = new Float64Array(l * s)
  for (let i = 0; i < l; i++) for (let j = i + 1; j < s; j++) out[i * s + j] = -Infinity
  return tensor(out, { shape: [l, s], dtype })
}

/** The sizes the masks of one multi-head attention call must fit. */
export interface MaskSizes {
  readonly N: number
  readonly H: number
  readonly L: number
  readonly S: number
  readonly batched: boolean
  readonly dtype: DType
}

/** The call's masks combined into scores to add, `[N | 1, H | 1, L | 1, S]`, or undefined. */
export function attentionMask(call: MultiheadAttentionCallOptions, z: MaskSizes): Tensor | undefined {
  const W = 'multiHeadAttention'
  const { N, H, L, S } = z
  let mask: Tensor | undefined
  if (call.isCausal === true) {
    if (call.attnMask !== undefined) throw new ArgumentError(`${W}: pass attnMask or isCausal, not both`)
    mask = causalMask(L, S, z.dtype)
  } else if (call.attnMask !== undefined) {
    const m = additiveMask(call.attnMask, z.dtype, W, 'attnMask')
    const three = z.batched ? [N * H, L, S] : [H, L, S]
    if (m.shape.join() === [L, S].join()) mask = m
    else if (m.shape.join() === three.join()) mask = reshape(m, [N, H, L, S])
    else
      throw new ShapeError(
        `${W}: attnMask must have shape ${fmtShape([L, S])} or ${fmtShape(three)} (${z.batched ? 'N * numHeads' : 'numHeads'}, L, S), got ${fmtShape(m.shape)}`,
      )
  }
  if (call.keyPaddingMask !== undefined) {
    const m = additiveMask(call.keyPaddingMask, z.dtype, W, 'keyPaddingMask')
    const want = z.batched ? [N, S] : [S]
    if (m.shape.join() !== want.join())
      throw new ShapeError(`${W}: keyPaddingMask must have shape ${fmtShape(want)} (${z.batched ? 'N, S' : 'S'}), got ${fmtShape(m.shape)}`)
    const kpm = reshape(m, [N, 1, 1, S])
    mask = mask === undefined ? kpm : add(mask, kpm)
  }
  return mask
}
