/**
 * The differentiable leaves of gradcheck's inputs: each tensor of each input tree, with a
 * readable name (`input 0 'lstm.weight_hh_l0'`), and the means to rebuild the inputs with
 * one leaf replaced (a perturbed copy for finite differences); plus the random cotangents,
 * directions and element subsets the checks draw.
 * @module
 */
import { type RandomStream, Tensor, flattenTree, type TensorTree } from '@graphgrad/core'

/** Thrown when gradcheck is used wrongly (float32 or int32 inputs, a non-tensor result, bad options). */
export class GradcheckError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'GradcheckError'
  }
}

/** @internal One tensor inside the inputs. */
export interface Leaf {
  /** Position of the argument it belongs to. */
  readonly input: number
  /** The argument's display name (`input 0`, or a name the caller gave). */
  readonly inputName: string
  /** Path inside the argument (`lstm.weight_hh_l0`, `[1]`), or null when the argument is the tensor itself. */
  readonly param: string | null
  /** The tensor. */
  readonly tensor: Tensor
}

/** @internal The leaves of all inputs, in flattenTree's order, and a way to rebuild the inputs. */
export interface Leaves {
  readonly leaves: Leaf[]
  /** The inputs again, with `replaced` in place of leaf `k`. */
  withLeaf(k: number, replaced: Tensor): unknown[]
}

/** @internal Flattens the inputs, naming every tensor. */
export function collectLeaves(inputs: readonly unknown[], names: readonly string[] | undefined, where: string): Leaves {
  const leaves: Leaf[] = []
  const flats = inputs.map((input, i) => {
    const flat = flattenTree(input, `${where} input ${i}`)
    const inputName = names?.[i] ?? `input ${i}`
    flat.leaves.forEach((tensor, j) => leaves.push({ input: i, inputName, param: flat.paths[j] === '' ? null : flat.paths[j], tensor }))
    return flat
  })
  const starts: number[] = []
  let acc = 0
  for (const f of flats) {
    starts.push(acc)
    acc += f.leaves.length
  }
  return {
    leaves,
    withLeaf(k: number, replaced: Tensor): unknown[] {
      const input = leaves[k].input
      const args = inputs.slice()
      const own = flats[input].leaves.slice()
      own[k - starts[input]] = replaced
      args[input] = flats[input].rebuild(own)
      return args
    },
  }
}

/** @internal The gradient trees a pullback returned, flattened to one array per leaf. */
export function flattenGradients(grads: readonly TensorTree[]): Tensor[] {
  return grads.flatMap((g) => flattenTree(g, 'gradient').leaves)
}

/** @internal `[2,1]` style multi-index of flat position `flat` in `shape`. */
export function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length)
  let rest = flat
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = rest % shape[d]
    rest = Math.floor(rest / shape[d])
  }
  return idx
}

/** @internal Readable name of a leaf: `input 0 'lstm.weight_hh_l0'`, or `input 1` for a plain tensor. */
export function leafLabel(leaf: { inputName: string; param: string | null }): string {
  return leaf.param === null ? leaf.inputName : `${leaf.inputName} '${leaf.param}'`
}

/** @internal Refuses inputs that finite differences cannot check well, with the reason. */
export function checkDTypes(leaves: readonly Leaf[], allowFloat32: boolean, where: string): void {
  for (const leaf of leaves) {
    const name = leafLabel(leaf)
    const shape = `[${leaf.tensor.shape.join(',')}]`
    if (leaf.tensor.dtype === 'int32') {
      throw new GradcheckError(
        `${where}: ${name} (shape ${shape}) is int32 and has no gradient. Pass only float inputs and close over index tensors in the function, e.g. (x) => gather(x, idx).`,
      )
    }
    if (leaf.tensor.dtype === 'float32' && !allowFloat32) {
      throw new GradcheckError(
        `${where}: ${name} (shape ${shape}) is float32. Central differences need float64: float32 keeps about 7 digits, ` +
          `so with a step of 1e-6 the difference f(x+h) - f(x-h) is mostly rounding noise and every check would look wrong (or hide a real error). ` +
          `Convert the inputs with astype(x, 'float64') (mapTree(params, (p) => astype(p, 'float64')) for a parameter map), ` +
          `or pass { allowFloat32: true } to check anyway with eps 1e-3 and tolerances 1e-2.`,
      )
    }
  }
}

/** @internal Random values of ±[0.5, 1.5): cotangents and directions with no entry near zero. */
export function randomLike(shape: readonly number[], dtype: Tensor['dtype'], rng: RandomStream): Tensor {
  let n = 1
  for (const d of shape) n *= d
  const data = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n)
  // No entry near zero, so a projection never hides an element.
  for (let i = 0; i < n; i++) data[i] = (rng.nextFloat() < 0.5 ? -1 : 1) * (0.5 + rng.nextFloat())
  return new Tensor(data, shape.slice())
}

/** @internal A one-hot cotangent: row i of the Jacobian. */
export function oneHot(shape: readonly number[], dtype: Tensor['dtype'], i: number, size: number): Tensor {
  const data = dtype === 'float32' ? new Float32Array(size) : new Float64Array(size)
  data[i] = 1
  return new Tensor(data, shape.slice())
}

/** @internal All element positions, or a sorted random subset of `max` of them. */
export function elementsToCheck(size: number, max: number, rng: RandomStream): number[] {
  const all = Array.from({ length: size }, (_, i) => i)
  if (size <= max) return all
  for (let i = 0; i < max; i++) {
    const j = i + rng.nextInt(0, size - i)
    ;[all[i], all[j]] = [all[j], all[i]]
  }
  return all.slice(0, Math.max(0, Math.floor(max))).sort((a, b) => a - b)
}

/** @internal Copies of the leaves' data, to detect mutation. */
export function snapshot(leaves: readonly Leaf[]): Float64Array[] {
  return leaves.map((l) => Float64Array.from(l.tensor._data))
}
