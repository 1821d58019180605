// The consumer test: the four packages as a user gets them from npm. They are packed (each
// prepack builds it), linted as tarballs (publint, attw), and installed with npm into a
// project in the system's temp folder, outside the workspace; then that project uses them as
// a user would: plain JavaScript in Node (and the README's Install example), TypeScript under
// node16 and bundler resolution, the graphgrad-gradcheck command, and a Vite page in Chromium
// under a strict Content-Security-Policy. One file, so the project is packed and installed once.
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHROMIUM, CHROMIUM_ARGS, ISOLATED, type Visit, serveStatic, visitPage } from './browser.ts'
import { type ConsumerProject, fileSize, kib, mustRun, readmeBlock, removeProject, repoRoot, runChild, setUpProject, tail, userEnv } from './project.ts'

const bin = (name: string): string => join(repoRoot, 'node_modules', '.bin', name)
const TSC = join(repoRoot, 'node_modules', 'typescript', 'lib', 'tsc.js')
const haveChromium = existsSync(CHROMIUM)
const skipReason = `${CHROMIUM} is missing (install it with \`apt-get install chromium\`; .ci/run does)`
if (!haveChromium) console.warn(`consumer/test/consumer.test.ts: the browser cases are skipped: ${skipReason}`)

let project: ConsumerProject | undefined
/** The temp project's folder; set by the beforeAll. */
const dir = (): string => {
  if (project === undefined) throw new Error('the consumer project was not set up')
  return project.dir
}

beforeAll(async () => {
  project = await setUpProject()
  console.log(
    `consumer: packed the four packages in ${project.seconds.pack.toFixed(1)} s, npm install took ${project.seconds.install.toFixed(1)} s (${project.dir})`,
  )
}, 300_000)

afterAll(() => removeProject(project))

/** `node file` in the temp project, which must exit 0; returns its stdout. */
async function runNode(file: string, timeoutMs = 60_000): Promise<string> {
  return (await mustRun(process.execPath, [file], dir(), timeoutMs)).stdout
}

/** The losses a script printed as `step N: loss X` lines, in order. */
function printedLosses(stdout: string): number[] {
  return [...stdout.matchAll(/^step \d+: loss ([\d.eE+-]+)$/gm)].map((m) => Number(m[1]))
}

describe('the packed tarballs', () => {
  it('carry the published exports (no source condition, no workspace: ranges) and print their sizes', () => {
    for (const [name, tarball] of Object.entries(project?.tarballs ?? {})) {
      console.log(`consumer tarball: @graphgrad/${name} ${kib(fileSize(tarball))} KiB (${tarball.split('/').pop()})`)
      const pkg = readFileSync(join(dir(), 'node_modules', '@graphgrad', name, 'package.json'), 'utf8')
      expect(pkg, name).not.toContain('@graphgrad/source')
      expect(pkg, name).not.toContain('workspace:')
      for (const f of ['LICENSE', 'README.md', 'dist/index.js', 'dist/index.d.ts'])
        expect(existsSync(join(dir(), 'node_modules', '@graphgrad', name, f)), `${name}/${f}`).toBe(true)
    }
    expect(Object.keys(project?.tarballs ?? {}).sort()).toEqual(['core', 'gradcheck', 'layers', 'onnx', 'optim'])
  })

  it('pass publint (strict, not even a suggestion) and attw (--profile esm-only)', async () => {
    const tarballs = Object.values(project?.tarballs ?? {})
    const failures: string[] = []
    await Promise.all(
      tarballs.map(async (t) => {
        const lint = await runChild(bin('publint'), ['run', t, '--strict'], repoRoot, 60_000)
        if (lint.code !== 0 || !lint.stdout.includes('All good!')) failures.push(`publint ${t} (exit ${lint.code}):\n${tail(lint.stdout + lint.stderr)}`)
        const types = await runChild(bin('attw'), [t, '--profile', 'esm-only', '--format', 'ascii', '--no-color', '--no-emoji'], repoRoot, 60_000)
        if (types.code !== 0) failures.push(`attw ${t} (exit ${types.code}):\n${tail(types.stdout + types.stderr)}`)
      }),
    )
    expect(failures).toEqual([])
  }, 120_000)
})

describe('plain JavaScript in Node', () => {
  it('trains an LSTM with adam (the loss falls), gradchecks a layer, and round-trips the state dict through bytes and files', async () => {
    const stdout = await runNode('train.mjs')
    const line = /^RESULT (.*)$/m.exec(stdout)
    expect(line, stdout).not.toBeNull()
    const result = JSON.parse(line?.[1] ?? '{}') as { losses: number[]; gradcheckEntries: number; tensors: string[] }
    expect(result.losses.at(-1)).toBeLessThan(result.losses[0])
    expect(result.gradcheckEntries).toBeGreaterThan(0)
    expect(result.tensors).toEqual(['lstm.weight_ih_l0', 'lstm.weight_hh_l0', 'lstm.bias_ih_l0', 'lstm.bias_hh_l0', 'head.weight', 'head.bias'])
  })

  it('saves an ONNX model with @graphgrad/onnx/node (the bytes of exportOnnx, no temporary file; an export error leaves no file)', async () => {
    const stdout = await runNode('onnx-save.mjs')
    const line = /^RESULT (.*)$/m.exec(stdout)
    expect(line, stdout).not.toBeNull()
    const result = JSON.parse(line?.[1] ?? '{}') as { written: number; same: boolean; refused: string; badExists: boolean; files: string[] }
    expect(result.written).toBeGreaterThan(0)
    expect(result.same).toBe(true)
    expect(result.refused).toMatch(/the op 'myTwice' .*has no ONNX mapping/)
    expect(result.badExists).toBe(false)
    expect(result.files).toEqual(['model.onnx'])
  })

  it('multiplies on 2 threads with the shipped worker script, bit-identical to 1 thread, and exits on its own', async () => {
    const stdout = await runNode('threads.mjs', 30_000)
    const line = /^RESULT (.*)$/m.exec(stdout)
    expect(line, stdout).not.toBeNull()
    expect(JSON.parse(line?.[1] ?? '{}')).toEqual({ threads: 2, same: true, workers: true })
  })

  it("runs the README's Install example as written, and its printed loss falls", async () => {
    writeFileSync(join(dir(), 'sine.mjs'), readmeBlock('## Install', 'js'))
    const stdout = await runNode('sine.mjs')
    const losses = printedLosses(stdout)
    expect(losses.length, stdout).toBeGreaterThanOrEqual(2)
    expect(losses.every(Number.isFinite), stdout).toBe(true)
    expect(losses.at(-1), stdout).toBeLessThan(losses[0])
    console.log(`consumer: README Install example: loss ${losses[0]} -> ${losses.at(-1)}`)
  })

  // Each package's README (what npm shows) has one example; it runs as written from the install.
  const packageExamples: Record<string, RegExp> = {
    core: /^\[ 0\.72686\d*, -0\.63970\d*, 0\.13621\d* \]$/m,
    layers: /^\[ 2, 5, 4 \] \[ 1, 2, 4 \] \[ 1, 2, 4 \]$/m,
    optim: /^2\.99\d*$/m,
    gradcheck: /^gradients match \(4 entries/m,
    onnx: /^true true$/m,
  }
  for (const [name, printed] of Object.entries(packageExamples)) {
    it(`runs @graphgrad/${name}'s README example as written`, async () => {
      const readme = readFileSync(join(repoRoot, 'packages', name, 'README.md'), 'utf8')
      const block = /^```js\n([\s\S]*?)^```$/m.exec(readme)
      expect(block, `packages/${name}/README.md has a \`\`\`js example`).not.toBeNull()
      writeFileSync(join(dir(), `readme-${name}.mjs`), block?.[1] ?? '')
      expect(await runNode(`readme-${name}.mjs`)).toMatch(printed)
    })
  }
})

describe('TypeScript against the installed declarations (strict, no skipLibCheck)', () => {
  const CONFIGS = {
    node16: { module: 'node16', moduleResolution: 'node16', lib: ['es2022'] },
    bundler: { module: 'preserve', moduleResolution: 'bundler', lib: ['es2022', 'dom'] },
  }

  it("typechecks the README's 'Your own model' example, with @graphgrad/core/node, @graphgrad/onnx/node and @graphgrad/gradcheck, under node16 and bundler resolution", async () => {
    const source = [
      "import { readSafetensorsFile, writeSafetensorsFile } from '@graphgrad/core/node'",
      "import { defineCheck, formatResult, gradcheck } from '@graphgrad/gradcheck'",
      "import { saveOnnx } from '@graphgrad/onnx/node'",
      readmeBlock('## Your own model', 'ts'),
      'export function saveModel(path: string): Promise<number> {',
      "  const logits = (p: Params, tokens: Tensor): Tensor => head.apply(p.get('head') as Params, cell.apply(p.get('lstm') as Params, embed.apply(p.get('embed') as Params, tokens)).output)",
      "  return saveOnnx(path, logits, params, [counting(0)], { inputNames: ['tokens'], dynamicAxes: { tokens: { 0: 'batch' } } })",
      '}',
      'export async function roundTrip(path: string): Promise<number> {',
      '  await writeSafetensorsFile(path, params)',
      '  return (await readSafetensorsFile(path)).size',
      '}',
      "export const report: string = formatResult(gradcheck((x: Tensor) => x.tanh().sum(), [tensor([0.5, -1], { dtype: 'float64' })]))",
      "export const checks = [defineCheck({ name: 'tanh', fn: (x: Tensor) => x.tanh().sum(), inputs: [tensor([0.5], { dtype: 'float64' })] })]",
      '',
    ].join('\n')
    writeFileSync(join(dir(), 'model.ts'), source)
    const runs = await Promise.all(
      Object.entries(CONFIGS).map(async ([name, options]) => {
        const file = `tsconfig.${name}.json`
        const config = { compilerOptions: { ...options, strict: true, target: 'es2022', noEmit: true }, files: ['model.ts'] }
        writeFileSync(join(dir(), file), `${JSON.stringify(config, null, 2)}\n`)
        const started = performance.now()
        const r = await runChild(process.execPath, [TSC, '-p', file], dir(), 90_000)
        return { name, code: r.code, output: tail(r.stdout + r.stderr), seconds: (performance.now() - started) / 1000 }
      }),
    )
    console.log(`consumer: tsc ${runs.map((r) => `${r.name} ${r.seconds.toFixed(1)} s`).join(', ')}`)
    expect(runs.map(({ name, code, output }) => ({ name, code, output }))).toEqual(runs.map(({ name }) => ({ name, code: 0, output: '' })))
  }, 120_000)
})

describe('the graphgrad-gradcheck command', () => {
  const gradcheck = (file: string): Promise<{ code: number | null; stdout: string; stderr: string }> =>
    runChild('npx', ['--no', 'graphgrad-gradcheck', file], dir(), 60_000)

  it("runs a user's .mjs check file and exits 0", async () => {
    const r = await gradcheck('checks.mjs')
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).toMatch(/tiny model\s.*pass/)
    expect(r.stdout).toMatch(/tiny loss\s.*pass/)
  })

  it('exits 1 on a custom op with a deliberately wrong VJP, naming it', async () => {
    const r = await gradcheck('wrong-checks.mjs')
    expect(r.code, r.stdout + r.stderr).toBe(1)
    expect(r.stdout).toMatch(/my mul op\s.*FAIL/)
    expect(r.stdout).toContain('analytic = 2 x numeric')
  })

  it('exits 2 on a .ts check file without tsx installed, with one line saying to install tsx', async () => {
    expect(existsSync(join(dir(), 'node_modules', 'tsx'))).toBe(false)
    const r = await gradcheck('checks.ts')
    expect(r.code, r.stdout + r.stderr).toBe(2)
    expect(r.stdout).toBe('')
    const lines = r.stderr.trim().split('\n')
    expect(lines, r.stderr).toHaveLength(1)
    expect(lines[0]).toMatch(/install.*tsx/)
  })

  it('runs the same .ts file once the project has tsx, and exits 0', async () => {
    await mustRun('npm', ['install', '--no-audit', '--no-fund', 'tsx@4.23.15'], dir(), 180_000)
    const r = await gradcheck('checks.ts')
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).toMatch(/typed linear\s.*pass/)
  }, 240_000)
})

describe('a page built with Vite from the installed packages', () => {
  interface Chunk {
    fileName: string
    name: string
    moduleIds: string[]
  }
  let chunks: Chunk[] = []

  beforeAll(async () => {
    // In a child process of its own, with NODE_ENV=production: Vite takes the mode of a build
    // from NODE_ENV, which the test runner sets to 'test'.
    const started = performance.now()
    await mustRun(process.execPath, [join(repoRoot, 'consumer', 'scripts', 'build-page.mjs'), dir()], dir(), 120_000, userEnv({ NODE_ENV: 'production' }))
    chunks = (JSON.parse(readFileSync(join(dir(), 'build-info.json'), 'utf8')) as { chunks: Chunk[] }).chunks
    console.log(`consumer: vite build ${((performance.now() - started) / 1000).toFixed(1)} s`)
  }, 150_000)

  it("bundles @graphgrad/* from the project's node_modules (never the workspace) and prints the bundle size", () => {
    const modules = chunks.flatMap((c) => c.moduleIds)
    const ours = modules.filter((id) => id.includes('@graphgrad'))
    const installed = `${realpathSync(dir())}/node_modules/@graphgrad/`
    for (const pkg of ['core', 'layers', 'optim'])
      expect(
        ours.some((id) => id.startsWith(`${installed}${pkg}/dist/`)),
        pkg,
      ).toBe(true)
    expect(ours.filter((id) => !id.startsWith(installed) || !id.includes('/dist/'))).toEqual([])
    expect(modules.filter((id) => id.startsWith(repoRoot))).toEqual([])
    const size = (name: string): { min: number; gz: number } => {
      const chunk = chunks.find((c) => c.name === name)
      if (chunk === undefined) throw new Error(`no '${name}' chunk among ${chunks.map((c) => c.fileName).join(', ')}`)
      const code = readFileSync(join(dir(), 'dist', chunk.fileName))
      return { min: code.length, gz: gzipSync(code, { level: 9 }).length }
    }
    const [graphgrad, immutable] = [size('graphgrad'), size('immutable')]
    expect(chunks.find((c) => c.name === 'graphgrad')?.moduleIds.every((id) => id.includes('/@graphgrad/'))).toBe(true)
    console.log(`consumer bundle: graphgrad ${kib(graphgrad.gz)} KiB min+gz, ${kib(graphgrad.min)} KiB min (immutable ${kib(immutable.gz)} KiB min+gz)`)
  })

  describe.skipIf(!haveChromium)(`in Chromium${haveChromium ? '' : ` (skipped: ${skipReason})`}`, () => {
    let browser: Browser | undefined

    beforeAll(async () => {
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS })
    }, 60_000)

    afterAll(async () => {
      await browser?.close()
    })

    /** Serves the built page under `csp` (and `headers`), visits it, and stops the server. */
    async function visitUnder(csp: string, headers: Readonly<Record<string, string>> = {}): Promise<Visit> {
      const server = await serveStatic(join(realpathSync(dir()), 'dist'), csp, headers)
      try {
        if (browser === undefined) throw new Error('Chromium did not start')
        return await visitPage(browser, server.url)
      } finally {
        await server.close()
      }
    }

    it("trains under script-src 'self' 'wasm-unsafe-eval' with the WASM GEMM, the loss falling, without errors or CSP violations", async () => {
      const { result, problems, violations } = await visitUnder("script-src 'self' 'wasm-unsafe-eval'")
      expect(problems).toEqual([])
      expect(violations).toEqual([])
      expect(result?.error).toBeUndefined()
      expect(result?.gemm).toBe('wasm')
      expect(result?.threads).toBe(1)
      expect(result?.losses?.at(-1)).toBeLessThan(result?.losses?.[0] ?? -Infinity)
    })

    it("multiplies on the GEMM's Web Workers in a cross-origin isolated page, under script-src 'self' 'wasm-unsafe-eval'", async () => {
      const { result, problems, violations } = await visitUnder("script-src 'self' 'wasm-unsafe-eval'", ISOLATED)
      expect(problems).toEqual([])
      expect(violations).toEqual([])
      expect(result?.error).toBeUndefined()
      expect(result?.gemm).toBe('wasm')
      expect(result?.threads).toBeGreaterThan(1)
      expect(result?.workers).toBe(true)
      expect(result?.losses?.at(-1)).toBeLessThan(result?.losses?.[0] ?? -Infinity)
    })

    it("trains under script-src 'self' with the TypeScript GEMM, the loss falling, without errors or CSP violations but the WASM probe's", async () => {
      const { result, problems, violations } = await visitUnder("script-src 'self'")
      expect(problems).toEqual([])
      // The GEMM's 'auto' default finds out that WebAssembly is refused by compiling a tiny probe
      // module once (see setGemmBackend); the browser reports that refusal as a violation. Nothing
      // else may be refused: no eval, and no second WebAssembly compile.
      expect(violations.filter((v) => !/^script-src\S* blocked wasm-eval /.test(v))).toEqual([])
      expect(violations.length, violations.join('\n')).toBeLessThanOrEqual(1)
      expect(result?.error).toBeUndefined()
      expect(result?.gemm).toBe('js')
      expect(result?.losses?.at(-1)).toBeLessThan(result?.losses?.[0] ?? -Infinity)
    })
  })
})
