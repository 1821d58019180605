/**
 * The benchmark's workloads, exactly as the issue fixes them, so that every implementation
 * (graphgrad and its peers) computes the same thing and the numbers compare.
 * @module
 */

/** The recurrent cell of a model workload. */
export type Cell = 'lstm' | 'gru'

/** The sizes of the character model every recurrent workload trains or evaluates. */
export interface ModelShape {
  /** Token vocabulary, also the head's output size. */
  readonly vocab: number
  /** Sequences per step. */
  readonly batch: number
  /** Time steps per sequence. */
  readonly seq: number
  /** Embedding width (a learned vocab x embed table), the recurrent layer's input size. */
  readonly embed: number
  /** Hidden size of the one recurrent layer. */
  readonly hidden: number
}

/** A training step or forward pass of the character model. */
export interface ModelWorkload {
  /** `train`: forward, full backward through every step, one Adam step; `forward`: the loss alone, no gradient recorded. */
  readonly kind: 'train' | 'forward'
  /** Workload name, e.g. `lstm_train_step_h256`. */
  readonly name: string
  /** Which recurrent cell. */
  readonly cell: Cell
  /** The model's sizes. */
  readonly shape: ModelShape
}

/** A square float32 matmul, reported in GFLOP/s. */
export interface MatmulWorkload {
  /** Discriminant. */
  readonly kind: 'matmul'
  /** Workload name, e.g. `matmul_512`. */
  readonly name: string
  /** Side of the square matrices. */
  readonly n: number
}

/** `x = tanh(x * w + b)` repeated `length` times on a small vector, forward and backward, reported in µs per op. */
export interface ChainWorkload {
  /** Discriminant. */
  readonly kind: 'chain'
  /** Workload name, e.g. `op_chain_2000`. */
  readonly name: string
  /** Repeats of the three-op body. */
  readonly length: number
  /** Length of x, w and b. */
  readonly width: number
}

/** graphgrad's heap over many training steps: after gc at fixed step counts (opt-in, slow). */
export interface MemoryWorkload {
  /** Discriminant. */
  readonly kind: 'memory'
  /** Workload name, `memory_lstm_1000`. */
  readonly name: string
  /** Training steps in all. */
  readonly steps: number
  /** Steps after which the heap is read (after gc). */
  readonly checkpoints: readonly number[]
  /** The model trained. */
  readonly shape: ModelShape
}

/** Any workload. */
export type Workload = ModelWorkload | MatmulWorkload | ChainWorkload | MemoryWorkload

/** The model: vocab 64, batch 32, sequence 64, embedding 64. */
function modelShape(hidden: number): ModelShape {
  return { vocab: 64, batch: 32, seq: 64, embed: 64, hidden }
}

/** Every workload, in run order; `optIn` ones run only when named with `--only`. */
export const WORKLOADS: readonly Workload[] = [
  { kind: 'train', name: 'lstm_train_step_h256', cell: 'lstm', shape: modelShape(256) },
  { kind: 'train', name: 'lstm_train_step_h64', cell: 'lstm', shape: modelShape(64) },
  { kind: 'train', name: 'gru_train_step_h256', cell: 'gru', shape: modelShape(256) },
  { kind: 'forward', name: 'lstm_forward_h256', cell: 'lstm', shape: modelShape(256) },
  { kind: 'matmul', name: 'matmul_256', n: 256 },
  { kind: 'matmul', name: 'matmul_512', n: 512 },
  { kind: 'matmul', name: 'matmul_1024', n: 1024 },
  { kind: 'chain', name: 'op_chain_2000', length: 2000, width: 16 },
  { kind: 'memory', name: 'memory_lstm_1000', steps: 1000, checkpoints: [100, 500, 1000], shape: modelShape(64) },
]

/** Workloads that only run when asked for by name (they take minutes). */
export const OPT_IN: ReadonlySet<string> = new Set(['memory_lstm_1000'])

/**
 * The implementations: graphgrad always (on its default thread count: every core Node reports,
 * unless `GRAPHGRAD_THREADS` says otherwise), the peers with `--compare`: graphgrad on one thread
 * (`GRAPHGRAD_THREADS=1`), TensorFlow.js, jax-js, and PyTorch on 1 and 2 threads when
 * `/usr/bin/python3` has it.
 */
export const IMPLS = ['graphgrad', 'graphgrad-1thr', 'tfjs-cpu', 'tfjs-wasm', 'jax-js', 'torch-1thr', 'torch-2thr'] as const

/** One implementation's name. */
export type ImplName = (typeof IMPLS)[number]

/** The workload called `name`; throws naming the known ones otherwise. */
export function workloadNamed(name: string): Workload {
  const w = WORKLOADS.find((x) => x.name === name)
  if (w === undefined) throw new Error(`unknown workload '${name}' (workloads: ${WORKLOADS.map((x) => x.name).join(', ')})`)
  return w
}

/** Whether `name` is an implementation this harness knows. */
export function isImplName(name: string): name is ImplName {
  return (IMPLS as readonly string[]).includes(name)
}

/** Which of `impls` run a workload (the memory soak is graphgrad's own check). */
export function implsFor(w: Workload, impls: readonly ImplName[]): ImplName[] {
  return w.kind === 'memory' ? impls.filter((i) => i === 'graphgrad') : [...impls]
}

/** Multiply-adds of one square matmul, doubled: the FLOP count behind GFLOP/s. */
export function matmulFlops(n: number): number {
  return 2 * n ** 3
}

/** Ops the chain records per run: three (mul, add, tanh) per repeat; the backward pass is timed but not counted. */
export function chainOps(w: ChainWorkload): number {
  return 3 * w.length
}
