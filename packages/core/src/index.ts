/**
 * @graphgrad/core: tensors, reverse-mode autodiff over an explicit graph, gradients of
 * gradients, graph export, seeded randomness and safetensors I/O.
 * @packageDocumentation
 */
export * from './errors.ts'
export type { DType, TensorData, TypedArrayFor } from './dtype.ts'
export type { Shape } from './shape.ts'
export { MAX_ELEMENTS } from './shape.ts'
export { Tensor, liveGraphNodes } from './tensor.ts'
export type { NestedArray, GraphNode } from './tensor.ts'
export * from './creation.ts'
export { key, splitKey, foldIn, RandomStream } from './random.ts'
export type { Key, Seed } from './random.ts'
export * from './tree.ts'
export { noGrad, stopGradient, detectAnomaly } from './autodiff/recording.ts'
export * from './autodiff/transforms.ts'
export * from './autodiff/trace.ts'
export * from './autodiff/custom.ts'
export * from './ops/index.ts'
export * from './safetensors.ts'
export * from './data.ts'
export { MAX_THREADS, numThreads, setNumThreads } from './threads.ts'
