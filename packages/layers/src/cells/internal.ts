/**
 * Core internals the fused cell ops need: `makeOutputs` wraps a kernel's results as the outputs
 * of one op with a hand-written VJP, `isRecording` tells whether a backward pass is being
 * recorded (for a derivative of higher order), `vjpIsLastUse` whether a VJP may consume
 * what its forward saved, and `gemm` computes the input projection inside the fused scan.
 * @module
 */
export { type OutputData, gemm, isRecording, makeOutputs, vjpIsLastUse } from '@graphgrad/core/internal'
