/**
 * The core kernels the fused cells build on.
 * @module
 */
export { gemm, packGemmB } from '@graphgrad/core/internal'
