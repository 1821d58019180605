/**
 * Which graphgrad ops the exporter writes, and which it refuses with a reason: what the
 * coverage test checks the op registry against.
 * @module
 */
import { CONV_POOL_MAPPINGS } from './conv-pool.ts'
import { MAPPINGS, UNSUPPORTED } from './ops.ts'
import { SCAN_MAPPINGS } from './recurrent.ts'

/** The recorded op names with an ONNX mapping (convolution, pooling and the fused recurrent scans included). */
export const MAPPED_OPS: readonly string[] = [...Object.keys(MAPPINGS), ...Object.keys(CONV_POOL_MAPPINGS), ...Object.keys(SCAN_MAPPINGS)]

/** The op names refused by name, with the reason the error gives. */
export const UNSUPPORTED_OPS: Readonly<Record<string, string>> = UNSUPPORTED
