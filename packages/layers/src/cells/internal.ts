/**
 * Core internals the fused cell ops need: `makeOutput` wraps a kernel's result as an op
 * output with a hand-written VJP, `isRecording` tells whether a backward pass is being
 * recorded (for a derivative of higher order), `vjpIsLastUse` whether a VJP may consume
 * what its forward saved, and `gemm` computes the input projection inside the fused scan.
 * @module
 */
export { gemm, isRecording, makeOutput, vjpIsLastUse } from '@graphgrad/core/internal'
