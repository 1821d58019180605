/**
 * Tracing for exporters: run a function on traced inputs with every op recorded (those
 * without a gradient too), and hand the recorded tensors to a callback before the graph is
 * released. The ONNX exporter builds on it.
 * @module
 */
import { Tensor, nextGraphNodeId } from '../tensor.ts'
import { flattenTree } from '../tree.ts'
import { inTransform, withExportRecording } from './recording.ts'

/** What {@link traceForExport} hands its callback. */
export interface ExportTrace<R> {
  /** What the function returned, its tensors carrying their graph nodes. */
  readonly result: R
  /** Per argument, the traced leaves (every dtype), in the order {@link flattenTree} gives. */
  readonly leaves: readonly (readonly Tensor[])[]
  /** Per argument, each leaf's path in its tree (`lstm.weight_ih_l0`; `''` for a bare tensor). */
  readonly paths: readonly (readonly string[])[]
  /** Whether the trace recorded the node of `t` (false for constants and for older graphs). */
  recorded(t: Tensor): boolean
}

/**
 * @internal Runs `f(...args)` with each argument's tensors replaced by traced leaves (int32
 * ones too) and every op recorded, then calls `use` with the result while the graph is
 * still there; the graph is released when the outermost transform returns. `f` and `use`
 * must be synchronous.
 */
export function traceForExport<A extends unknown[], R, T>(f: (...args: A) => R, args: A, use: (trace: ExportTrace<R>) => T): T {
  const firstId = nextGraphNodeId()
  return inTransform(
    () =>
      withExportRecording(() => {
        const leaves: Tensor[][] = []
        const paths: string[][] = []
        const traced = args.map((arg, i) => {
          const flat = flattenTree(arg, `export argument ${i}`)
          const ls = flat.leaves.map((x) => new Tensor(x._data, x.shape, true, null))
          leaves.push(ls)
          paths.push(flat.paths.slice())
          return flat.rebuild(ls)
        }) as A
        const result = f(...traced)
        return use({ result, leaves, paths, recorded: (t) => t.node !== null && t.node.id >= firstId })
      }),
    true,
  )
}
