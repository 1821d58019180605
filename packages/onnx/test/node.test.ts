// saveOnnx from @graphgrad/onnx/node: the file ONNX Runtime loads from its path, written
// atomically (an export error leaves no file, a failed write no partial or temporary file, an
// existing file is replaced whole or left as it was).
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Tensor, customOp, randn } from '@graphgrad/core'
import { linear } from '@graphgrad/layers'
import { OrderedMap } from 'immutable'
import * as ort from 'onnxruntime-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exportOnnx } from '../src/index.ts'
import { saveOnnx } from '../src/node.ts'

const head = linear({ inFeatures: 4, outFeatures: 3 })
const params = OrderedMap({ head: head.init(1) })
const f = (p: typeof params, x: Tensor): Tensor => head.apply(p.get('head') as ReturnType<typeof head.init>, x).tanh()
const x = randn([2, 4], 2)

let dir = ''
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'graphgrad-onnx-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('saveOnnx', () => {
  it("writes exportOnnx's bytes, which ONNX Runtime loads from the path and runs with graphgrad's numbers", async () => {
    const path = join(dir, 'model.onnx')
    const written = await saveOnnx(path, f, params, [x], { inputNames: ['x'], outputNames: ['y'] })
    const bytes = new Uint8Array(await readFile(path))
    expect(written).toBe(bytes.length)
    expect(bytes).toEqual(exportOnnx(f, params, [x], { inputNames: ['x'], outputNames: ['y'] }))
    const session = await ort.InferenceSession.create(path)
    try {
      const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from(x._data), [2, 4]) })
      const want = f(params, x)
      const got = Array.from(out.y.data as Float32Array)
      got.forEach((v, i) => expect(Math.abs(v - want._data[i])).toBeLessThan(1e-5 * Math.max(1, Math.abs(want._data[i]))))
    } finally {
      await session.release()
    }
    expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([])
  })

  it('accepts a file: URL and replaces an existing file whole', async () => {
    const path = join(dir, 'replaced.onnx')
    await writeFile(path, 'old contents')
    await saveOnnx(new URL(`file://${path}`), f, params, [x])
    expect(new Uint8Array(await readFile(path))).toEqual(exportOnnx(f, params, [x]))
  })

  it('an export error (an unmapped op) leaves no file, and an existing one untouched', async () => {
    const twice = customOp({ name: 'myTwice', forward: (t) => t.mul(2), vjp: (g) => [g.mul(2)] })
    const bad = (_p: typeof params, t: Tensor): Tensor => twice(t)
    const fresh = join(dir, 'never.onnx')
    await expect(saveOnnx(fresh, bad, params, [x])).rejects.toThrow(/the op 'myTwice' .*has no ONNX mapping/)
    await expect(readFile(fresh)).rejects.toThrow(/ENOENT/)
    const kept = join(dir, 'kept.onnx')
    await writeFile(kept, 'keep me')
    await expect(saveOnnx(kept, bad, params, [x])).rejects.toThrow(/myTwice/)
    expect(await readFile(kept, 'utf8')).toBe('keep me')
  })

  it('a failed write (a missing directory, a directory in the way) names the path and leaves no temporary file', async () => {
    await expect(saveOnnx(join(dir, 'missing', 'model.onnx'), f, params, [x])).rejects.toThrow(
      /saveOnnx: could not write the ONNX model to '.*missing.*model\.onnx': .*ENOENT/,
    )
    const blocked = join(dir, 'blocked')
    await mkdir(join(blocked, 'model.onnx'), { recursive: true })
    await expect(saveOnnx(join(blocked, 'model.onnx'), f, params, [x])).rejects.toThrow(/saveOnnx: could not write/)
    expect(await readdir(blocked)).toEqual(['model.onnx'])
    expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([])
  })
})
