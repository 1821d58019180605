/**
 * Parameter trees: a tensor, an array of trees, or an Immutable.js map of trees.
 * Transforms (`grad`, `vjp`) and optimizers flatten a tree to its tensors and rebuild
 * the same structure around new tensors.
 * @module
 */
import { describeValue } from './messages.ts'
import { Map as IMap, OrderedMap, isMap, isOrderedMap } from 'immutable'
import { ArgumentError } from './errors.ts'
import { Tensor } from './tensor.ts'

/** A tree of tensors: a tensor, an array of trees, or an Immutable.js (Ordered)Map of trees. */
export type TensorTree = Tensor | readonly TensorTree[] | IMap<string, TensorTree>

/** A flat, ordered map from dotted names (`lstm.weight_ih_l0`) to tensors. */
export type ParamMap = OrderedMap<string, Tensor>

/** The tensors of a tree, depth first, and a function that rebuilds the tree around others. */
export interface FlatTree {
  /** The leaves, in a stable order (map insertion order, array order). */
  readonly leaves: Tensor[]
  /**
   * Where each leaf sits, in the same order: map keys joined by dots, array positions as
   * `[i]` (`lstm.weight_ih_l0`, `[1].w`, `layers[0].bias`); `''` for a tree that is a tensor.
   */
  readonly paths: string[]
  /** The same structure with `leaves` (same count and order) in place of the old ones. */
  rebuild(leaves: readonly Tensor[]): TensorTree
}

/** How {@link flattenTree} treats what is not a tensor. */
export interface FlattenOptions {
  /** Whether arrays are containers (default true); when false an array is refused like any non-tensor. */
  readonly arrays?: boolean
  /** The error for a node that is neither a tensor nor an accepted container, at `path` (`''` for the root). */
  readonly refuse?: (path: string, node: unknown) => Error
}

/** Flattens a tree; throws an ArgumentError naming the path of anything that is not a tensor. */
export function flattenTree(tree: unknown, where = 'tree', options: FlattenOptions = {}): FlatTree {
  const leaves: Tensor[] = []
  const paths: string[] = []
  const arrays = options.arrays ?? true
  const refuse =
    options.refuse ??
    ((path, node) => new ArgumentError(`${where}: expected a Tensor, an array or an Immutable.js Map at '${path || '<root>'}', found ${describeValue(node)}`))
  const build = (node: unknown, path: string): ((next: () => Tensor) => TensorTree) => {
    if (node instanceof Tensor) {
      leaves.push(node)
      paths.push(path)
      return (next) => next()
    }
    if (arrays && Array.isArray(node)) {
      const parts = node.map((c, i) => build(c, `${path}[${i}]`))
      return (next) => parts.map((p) => p(next))
    }
    if (isMap(node)) {
      const entries = [...(node as IMap<unknown, unknown>).entries()].map(([k, v]) => [k, build(v, path === '' ? String(k) : `${path}.${String(k)}`)] as const)
      const ordered = isOrderedMap(node)
      return (next) => {
        const rebuilt = entries.map(([k, p]) => [k as string, p(next)] as [string, TensorTree])
        return ordered ? OrderedMap(rebuilt) : IMap(rebuilt)
      }
    }
    throw refuse(path, node)
  }
  const rebuildFn = build(tree, '')
  const count = leaves.length
  return {
    leaves,
    paths,
    rebuild(newLeaves: readonly Tensor[]): TensorTree {
      if (newLeaves.length !== count) throw new ArgumentError(`${where}: rebuild needs ${count} tensors, got ${newLeaves.length}`)
      let i = 0
      return rebuildFn(() => newLeaves[i++])
    },
  }
}

/** Applies `fn` to every tensor of a tree, keeping its structure. */
export function mapTree<T extends TensorTree>(tree: T, fn: (x: Tensor, index: number) => Tensor): T {
  const flat = flattenTree(tree)
  return flat.rebuild(flat.leaves.map(fn)) as T
}

/**
 * Flattens nested maps into one ordered map keyed by dotted names, as PyTorch's
 * `state_dict()` names them (`{ lstm: { weight_ih_l0 } }` becomes `lstm.weight_ih_l0`).
 */
export function flattenParams(tree: IMap<string, TensorTree>): ParamMap {
  const { leaves, paths } = flattenTree(tree, 'flattenParams', {
    arrays: false,
    refuse: (path, node) => new ArgumentError(`flattenParams: expected a Tensor or a Map at '${path || '<root>'}', found ${describeValue(node)}`),
  })
  const out = paths.map((name, i): [string, Tensor] => [name, leaves[i]])
  // A key containing '.' can spell the same name as a nested path ({'a.b': t, a: {b: t2}}),
  // or name a tensor that is also a prefix of another name; either would silently lose a
  // tensor in the flat map or when unflattening it.
  const names = new Set<string>()
  for (const [name] of out) {
    if (names.has(name)) throw new ArgumentError(`flattenParams: parameter name '${name}' occurs twice (a key containing '.' clashes with a nested path)`)
    names.add(name)
  }
  for (const [name] of out) {
    const parts = name.split('.')
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join('.')
      if (names.has(prefix)) throw new ArgumentError(`flattenParams: parameter name '${prefix}' is both a tensor and a prefix of '${name}'`)
    }
  }
  return OrderedMap(out)
}

/** Inverse of {@link flattenParams}: splits dotted names back into nested ordered maps. */
export function unflattenParams(flat: IMap<string, Tensor>): OrderedMap<string, TensorTree> {
  let root = OrderedMap<string, TensorTree>()
  for (const [name, t] of flat.entries()) {
    const path = name.split('.')
    if (path.some((p) => p === '')) throw new ArgumentError(`unflattenParams: invalid parameter name '${name}'`)
    const existing = root.getIn(path)
    if (existing !== undefined) throw new ArgumentError(`unflattenParams: parameter name '${name}' clashes with another name`)
    for (let i = 1; i < path.length; i++) {
      const prefix = path.slice(0, i)
      const at = root.getIn(prefix)
      if (at instanceof Tensor) throw new ArgumentError(`unflattenParams: '${prefix.join('.')}' is both a tensor and a prefix of '${name}'`)
      if (at === undefined) root = root.setIn(prefix, OrderedMap())
    }
    root = root.setIn(path, t)
  }
  return root
}
