/**
 * Runs one measurement in a child process (`child.ts` under tsx, with `--expose-gc`) and
 * returns its outcome; a crash, a timeout or a missing result line becomes a failure.
 * @module
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { type ChildArgs, childArgv } from './child.ts'
import { type BenchOutcome, parseChildOutput } from './result.ts'
import { SOURCE_NODE_FLAGS } from '../../scripts/source-condition.ts'

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url))

/** A measurement that runs longer than this is killed (tfjs-cpu's slowest takes ~2 minutes). */
const CHILD_TIMEOUT_MS = 10 * 60 * 1000

/**
 * Node flags per implementation: jax-js 0.1.25 traces a 2,000-op chain recursively, past V8's
 * default ~1 MB stack; 6,000 KB stays inside Linux's usual 8 MB main-thread stack.
 */
function nodeFlags(impl: string): string[] {
  return ['--expose-gc', ...(impl === 'jax-js' ? ['--stack-size=6000'] : [])]
}

/**
 * The child's environment: `graphgrad-1thr` is graphgrad with `GRAPHGRAD_THREADS=1` (the
 * thread count is read when core loads, so it is set before the child starts).
 */
export function childEnv(impl: string, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return impl === 'graphgrad-1thr' ? { ...env, GRAPHGRAD_THREADS: '1' } : env
}

/** Measures `a` in a fresh Node process. */
export function runInChild(a: ChildArgs, timeoutMs = CHILD_TIMEOUT_MS): Promise<BenchOutcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...nodeFlags(a.impl), ...SOURCE_NODE_FLAGS, CHILD, ...childArgv(a)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: childEnv(a.impl),
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    const fail = (why: string): void => resolve({ name: a.workload, impl: a.impl, error: why })
    child.on('error', (e) => {
      clearTimeout(timer)
      fail(`could not start the child process: ${e.message}`)
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      try {
        resolve(parseChildOutput(stdout))
      } catch (e) {
        const last = stderr.trim().split('\n').slice(-1)[0] ?? ''
        const how = signal === 'SIGKILL' ? `killed after ${timeoutMs / 1000} s` : `exit code ${code ?? signal}`
        fail(`${(e as Error).message} (${how})${last === '' ? '' : `: ${last}`}`)
      }
    })
  })
}
