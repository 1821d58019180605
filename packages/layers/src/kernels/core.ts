/**
 * The core kernels the fused cells build on, and the memory probe their loops report to.
 * @module
 */
export { gemm, packGemmB, probeInside } from '@graphgrad/core/internal'
