/**
 * Every implementation's runner factory, imported lazily so that a child process loads only
 * the library it measures.
 * @module
 */
import type { RunnerFactory } from '../impl.ts'
import type { ImplName } from '../workloads.ts'
import { TORCH_THREADS } from './torch-python.ts'

/** The runner factory of `impl`. */
export async function runnerFactory(impl: ImplName): Promise<RunnerFactory> {
  switch (impl) {
    case 'graphgrad':
    case 'graphgrad-1thr':
      return (await import('./graphgrad.ts')).graphgradRunner
    case 'tfjs-cpu':
      return (await import('./tfjs.ts')).tfjsRunner('cpu')
    case 'tfjs-wasm':
      return (await import('./tfjs.ts')).tfjsRunner('wasm')
    case 'jax-js':
      return (await import('./jax.ts')).jaxRunner
    case 'torch-1thr':
    case 'torch-2thr':
      return (await import('./torch.ts')).torchRunner(TORCH_THREADS[impl])
  }
}
