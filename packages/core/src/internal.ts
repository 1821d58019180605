/**
 * `@graphgrad/core/internal`: the pieces that fused ops in other packages build on — the
 * recording hook every op calls, the GEMM kernel, the WebAssembly emitter and its feature
 * probe (for kernels of their own, such as the layers' recurrent cells), and the
 * backward-pass probe (for measuring). Stable enough for graphgrad's own packages; users writing ops should prefer
 * {@link customOp} from the main entry.
 * @packageDocumentation
 */
export { isRecording, makeOutput, makeOutputs, vjpIsLastUse, type MultiVjp, type OutputData, type Vjp } from './autodiff/recording.ts'
export { noGradient, isNoGradient, type NoGradient } from './autodiff/no-gradient.ts'
export { type BackwardProbe, backwardProbe, probeInside, setBackwardProbe } from './autodiff/probe.ts'
export {
  gemm,
  gemmBackend,
  gemmThreadStats,
  jsGemm,
  setGemmBackend,
  packGemmB,
  type GemmBackend,
  type GemmWithB,
  type PackGemmB,
  type PackedGemmB,
} from './kernels/matmul.ts'
export { type FunctionBuilder, type Local, ModuleBuilder } from './kernels/wasm/module.ts'
export { type WasmSupport, wasmSupport } from './kernels/wasm/support.ts'
export { dtypeKey } from './kernels/specialize.ts'
export { kindOf } from './kernels/elementwise.ts'
export { sumToShape } from './ops/broadcast.ts'
export { broadcastStrides, checkShape } from './shape.ts'
export { registerOps } from './ops/registry.ts'
export { checkOptionKeys, describeValue, nearestName } from './messages.ts'
export { type ExportTrace, traceForExport } from './autodiff/export-trace.ts'
export type { OpAttribute, OpAttributes } from './tensor.ts'
