/**
 * The core kernels the fused cells build on.
 * @module
 */
export { gemm } from '@graphgrad/core/internal'
