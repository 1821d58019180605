/**
 * What the sweep of `pnpm start` would need, checked before the first run starts (see
 * ../shared/resources.ts): every run's input batches must fit in a tensor, and the memory
 * of the largest run, times the runs going at once (`--jobs`), must stay within the machine's limit.
 * @module
 */
import { type MemoryLimit, type TensorNeed, memoryTooLarge, tensorTooLarge } from '../shared/resources.ts'
import { GATES, type Model, modelsForBudget } from './models.ts'
import type { SweepSettings } from './results.ts'
import { TASKS } from './tasks.ts'

/** Bytes per parameter while training: parameters, gradients (also clipped), Adam's two moments, the updated copies. */
const BYTES_PER_PARAMETER = 64

/**
 * Bytes per sequence step of a batch, measured and rounded up by about a half: while training,
 * the cell's gates, states and their gradients, and the inputs; while scoring (no gradients), half as much.
 */
function bytesPerStep(model: Model, features: number, training: boolean): number {
  const gates = GATES[model.name] * model.hidden
  return training ? 12 * gates + 12 * features + 192 : 6 * gates + 8 * features + 64
}

/**
 * Why the sweep cannot run on this machine (a batch past a tensor's element limit, or a run
 * needing more memory than `limit`), naming the largest run; undefined when it can.
 */
export function sweepProblem(settings: SweepSettings, jobs: number, limit: MemoryLimit): string | undefined {
  const tensors: TensorNeed[] = []
  let largest: { label: string; parts: { what: string; bytes: number }[]; total: number } | undefined
  for (const name of settings.tasks) {
    const task = TASKS[name]
    const models = modelsForBudget(settings.models, task.inputSize, task.outputSize, settings.hidden)
    for (const lag of task.perStep ? [0] : settings.lags) {
      const at = task.perStep ? name : `${name} at lag ${lag}`
      const length = task.sequenceLength(lag)
      tensors.push(
        { what: `the training batch of ${at}`, shape: [settings.batchSize, length, task.inputSize], hint: 'a smaller --batch or --lags' },
        { what: `the held-out batch of ${at}`, shape: [settings.evalSize, length, task.inputSize], hint: 'a smaller --eval or --lags' },
      )
      for (const model of models) {
        tensors.push({ what: `the ${model.name}'s recurrent weights`, shape: [GATES[model.name] * model.hidden, model.hidden], hint: 'a smaller --hidden' })
        const parts = [
          { what: "parameters and Adam's state", bytes: model.parameters * BYTES_PER_PARAMETER },
          { what: 'training a batch', bytes: settings.batchSize * length * bytesPerStep(model, task.inputSize, true) },
          { what: 'scoring the held-out batch', bytes: settings.evalSize * length * bytesPerStep(model, task.inputSize, false) },
        ]
        const total = parts.reduce((s, p) => s + p.bytes, 0)
        if (largest === undefined || total > largest.total) largest = { label: `${task.perStep ? name : `${name} lag ${lag}`} ${model.name}`, parts, total }
      }
    }
  }
  const tensor = tensorTooLarge(tensors)
  if (tensor !== undefined) return tensor
  // Each job holds one run at a time: with several, as many of the largest may run together.
  const together = Math.max(1, jobs)
  const parts = largest?.parts.map((p) => ({ what: together === 1 ? p.what : `${p.what}, ${together} jobs`, bytes: together * p.bytes }))
  const memory = parts === undefined ? undefined : memoryTooLarge(parts, limit)
  const fewer = together === 1 ? '' : ' or fewer --jobs'
  return memory === undefined ? undefined : `the largest run (${largest?.label}) ${memory}; use smaller --lags, --batch, --eval or --hidden${fewer}`
}
