/**
 * PyTorch's side of every workload (`torch-1thr`, `torch-2thr`): `bench/torch/torch_bench.py`
 * run by Debian's PyTorch 1.13 in a Python process of its own, started by the measurement's
 * child process. The weights and data are graphgrad's seeded ones (`data.ts`), handed over as a
 * safetensors file; the script times each counted unit itself (`time.perf_counter`), so the
 * round trip over the pipe is not counted, and the child plans and counts the runs with the
 * same rules as for every other implementation (`measure.ts`).
 * @module
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process'
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { Readable, Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { type Tensor, saveSafetensors, tensor } from '@graphgrad/core'
import { OrderedMap } from 'immutable'
import { chainData, gatesOf, matrixData, modelData } from '../data.ts'
import type { Runner } from '../impl.ts'
import type { Workload } from '../workloads.ts'
import { torchEnv, torchPython } from './torch-python.ts'

const SCRIPT = fileURLToPath(new URL('../../torch/torch_bench.py', import.meta.url))

/** How long the script may take to load torch and build the workload before it says `ready`. */
const READY_TIMEOUT_MS = 120_000

/** The tensors the script reads for `w`, by the names it expects, float32 and int32. */
function torchInputs(w: Workload): OrderedMap<string, Tensor> {
  const f32 = (data: Float32Array, shape: readonly number[]): Tensor => tensor(data, { shape })
  switch (w.kind) {
    case 'train':
    case 'forward': {
      const { vocab, batch, seq, embed, hidden } = w.shape
      const gh = gatesOf(w.cell) * hidden
      const d = modelData(w.cell, w.shape)
      return OrderedMap<string, Tensor>([
        ['embedding', f32(d.embedding, [vocab, embed])],
        ['weight_ih', f32(d.weightIh, [gh, embed])],
        ['weight_hh', f32(d.weightHh, [gh, hidden])],
        ['bias_ih', f32(d.biasIh, [gh])],
        ['bias_hh', f32(d.biasHh, [gh])],
        ['head_weight', f32(d.headWeight, [vocab, hidden])],
        ['head_bias', f32(d.headBias, [vocab])],
        ['tokens', tensor(d.tokens, { shape: [batch, seq] })],
        ['targets', tensor(d.targets, { shape: [batch * seq] })],
      ])
    }
    case 'matmul':
      return OrderedMap<string, Tensor>([
        ['a', f32(matrixData(w.n, 1), [w.n, w.n])],
        ['b', f32(matrixData(w.n, 2), [w.n, w.n])],
      ])
    case 'chain': {
      const d = chainData(w.width)
      return OrderedMap<string, Tensor>([
        ['x0', f32(d.x0, [w.width])],
        ['w', f32(d.w, [w.width])],
        ['b', f32(d.b, [w.width])],
      ])
    }
    case 'memory':
      throw new Error(`torch: '${w.name}' is graphgrad's own memory check`)
  }
}

/** One JSON line per request, in order, from the script's stdout; a failure of the process rejects what is pending. */
class Lines {
  private readonly queue: string[] = []
  private readonly waiting: { resolve: (s: string) => void; reject: (e: Error) => void }[] = []
  private ended: Error | undefined

  constructor(child: ChildProcessByStdio<Writable, Readable, Readable>, what: string) {
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    createInterface({ input: child.stdout }).on('line', (line) => {
      const next = this.waiting.shift()
      if (next === undefined) this.queue.push(line)
      else next.resolve(line)
    })
    const fail = (why: string): void => {
      const last = stderr.trim().split('\n').slice(-1)[0] ?? ''
      this.ended = new Error(`${what}: ${why}${last === '' ? '' : `: ${last}`}`)
      for (const w of this.waiting.splice(0)) w.reject(this.ended)
    }
    child.on('error', (e) => fail(`could not start: ${e.message}`))
    child.on('close', (code, signal) => fail(`the Python process ended (${code === null ? signal : `exit code ${code}`})`))
  }

  next(timeoutMs?: number): Promise<string> {
    const queued = this.queue.shift()
    if (queued !== undefined) return Promise.resolve(queued)
    if (this.ended !== undefined) return Promise.reject(this.ended)
    return new Promise((resolve, reject) => {
      const timer = timeoutMs === undefined ? undefined : setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs)
      const done =
        <T>(f: (x: T) => void) =>
        (x: T) => {
          clearTimeout(timer)
          f(x)
        }
      this.waiting.push({ resolve: done(resolve), reject: done(reject) })
    })
  }
}

/** What the script answers to `run`. */
interface RunReply {
  readonly ms: number
  readonly loss: number | null
}

/** What the script answers to `stats`. */
interface StatsReply {
  readonly live: number
  readonly maxrss_mb: number
}

function parseReply<T>(line: string, keys: readonly (keyof T & string)[], what: string): T {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    throw new Error(`${what}: the script printed '${line.slice(0, 200)}', not a JSON reply`)
  }
  if (typeof value !== 'object' || value === null || !keys.every((k) => k in value))
    throw new Error(`${what}: reply '${line.slice(0, 200)}' lacks ${keys.join(', ')}`)
  return value as T
}

/** The runner factory of PyTorch with `threads` threads. */
export function torchRunner(threads: number): (w: Workload) => Promise<Runner> {
  return async (w) => {
    const what = `torch (${threads} thread${threads === 1 ? '' : 's'}, ${w.name})`
    const dir = mkdtempSync(join(tmpdir(), 'graphgrad-bench-torch-'))
    const file = join(dir, 'inputs.safetensors')
    try {
      writeFileSync(`${file}.tmp`, saveSafetensors(torchInputs(w)))
      renameSync(`${file}.tmp`, file)
    } catch (e) {
      rmSync(dir, { recursive: true, force: true })
      throw e
    }
    const child = spawn(torchPython(), [SCRIPT, '--threads', String(threads), '--data', file, '--workload', JSON.stringify(w)], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: torchEnv(threads),
    })
    const lines = new Lines(child, what)
    const close = (): void => {
      child.stdin.end()
      if (child.exitCode === null) child.kill()
      rmSync(dir, { recursive: true, force: true })
    }
    try {
      const ready = await lines.next(READY_TIMEOUT_MS)
      if (!ready.startsWith('ready ')) throw new Error(`${what}: expected the script's 'ready' line, got '${ready.slice(0, 200)}'`)
      const info = parseReply<{ threads: number }>(ready.slice('ready '.length), ['threads'], what)
      if (info.threads !== threads) throw new Error(`${what}: torch.get_num_threads() is ${info.threads} after set_num_threads(${threads})`)
    } catch (e) {
      close()
      throw e
    }
    const ask = async <T>(command: string, keys: readonly (keyof T & string)[]): Promise<T> => {
      child.stdin.write(`${command}\n`)
      return parseReply<T>(await lines.next(), keys, what)
    }
    let lastMs: number | undefined
    return {
      async run() {
        const r = await ask<RunReply>('run', ['ms', 'loss'])
        lastMs = r.ms
        return r.loss ?? undefined
      },
      lastRunMs: () => lastMs,
      live: async () => (await ask<StatsReply>('stats', ['live'])).live,
      peakRssMb: async () => (await ask<StatsReply>('stats', ['maxrss_mb'])).maxrss_mb,
      dispose: close,
    }
  }
}
