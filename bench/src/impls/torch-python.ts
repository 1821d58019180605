/**
 * Where the PyTorch peer's Python comes from, and whether it is there: Debian's
 * `/usr/bin/python3` with `python3-torch` (not a pyenv `python3` that may come first on PATH),
 * or the interpreter named by `GRAPHGRAD_BENCH_PYTHON`.
 * @module
 */
import { spawnSync } from 'node:child_process'

/** The PyTorch implementations and their thread counts. */
export const TORCH_THREADS = { 'torch-1thr': 1, 'torch-2thr': 2 } as const

/** One PyTorch implementation's name. */
export type TorchImpl = keyof typeof TORCH_THREADS

/** How to get PyTorch on Debian, for the line that says it is missing. */
export const TORCH_INSTALL_HINT = 'apt-get install -y python3-torch libopenblas0-openmp'

/** The Python that runs the PyTorch peer: `GRAPHGRAD_BENCH_PYTHON`, else Debian's `/usr/bin/python3`. */
export function torchPython(env: NodeJS.ProcessEnv = process.env): string {
  const chosen = env.GRAPHGRAD_BENCH_PYTHON
  return chosen === undefined || chosen === '' ? '/usr/bin/python3' : chosen
}

/**
 * The environment of a PyTorch child with `threads` threads: OpenMP, OpenBLAS and MKL fixed to
 * that count (they read it when they load; the script also calls `torch.set_num_threads`).
 */
export function torchEnv(threads: number, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const n = String(threads)
  return { ...env, OMP_NUM_THREADS: n, OPENBLAS_NUM_THREADS: n, MKL_NUM_THREADS: n }
}

/**
 * Why PyTorch cannot run from `python` (the interpreter is missing, or it cannot import torch
 * and numpy), or `undefined` when it can. Starts the interpreter once (a few seconds: importing
 * torch is slow).
 */
export function torchMissing(python: string = torchPython()): string | undefined {
  const r = spawnSync(python, ['-c', 'import numpy, torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 120_000, env: torchEnv(1) })
  if (r.error !== undefined) {
    const code = (r.error as NodeJS.ErrnoException).code
    return code === 'ENOENT' ? `${python} not found` : `${python} could not run: ${r.error.message}`
  }
  if (r.status !== 0) {
    const last = r.stderr.trim().split('\n').slice(-1)[0] ?? ''
    return `${python} cannot import torch and numpy (${last === '' ? `exit code ${r.status ?? r.signal}` : last})`
  }
  return undefined
}
