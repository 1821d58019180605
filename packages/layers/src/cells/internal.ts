/**
 * Core internals the fused cell ops need: `makeOutput` wraps a kernel's result as an op
 * output with a hand-written VJP, and `isRecording` tells whether a backward pass is being
 * recorded (for a derivative of higher order).
 * @module
 */
export { isRecording, makeOutput } from '@graphgrad/core/internal'
