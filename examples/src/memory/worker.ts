/**
 * A worker process of the sweep (see experiment.ts): it receives runs over IPC, one at a
 * time, trains each (run.ts) and sends back its record, or the error that ended it.
 * @module
 */
import type { WorkerReply, WorkerRequest } from './experiment.ts'
import { runOne } from './run.ts'

process.on('message', (request: WorkerRequest) => {
  const reply = (message: WorkerReply): void => {
    process.send?.(message)
  }
  runOne(request.settings, request.spec, request.out).then(
    (record) => reply({ record }),
    (e: unknown) => reply({ error: e instanceof Error ? { name: e.name, message: e.message } : { name: 'Error', message: String(e) } }),
  )
})
process.on('disconnect', () => process.exit(0))
