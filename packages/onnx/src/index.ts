/**
 * `@graphgrad/onnx`: export a graphgrad function of a parameter tree and inputs as an ONNX
 * model (opset 17, IR 8) that ONNX Runtime runs, with the recurrent layers as ONNX's own
 * LSTM, GRU and RNN nodes and batch and sequence axes left symbolic when asked.
 * @packageDocumentation
 */
export { type ExportOptions, type ExportOutput, exportOnnx } from './export.ts'
export { MAPPED_OPS, UNSUPPORTED_OPS } from './coverage.ts'
