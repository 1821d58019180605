// The docs site, end to end in a real browser: build it, serve it on 127.0.0.1, drive Debian's
// Chromium headless with playwright-core, and check what a reader sees: every page loads
// without console or page errors, the math is typeset, the LSTM graph is drawn from
// traceGraph, and the live demo's loss falls; and, served under a strict Content-Security-Policy,
// the demo's export button runs the model in onnxruntime-web with the page's numbers. Saves
// screenshots of the demo page.
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs'
import { createServer } from 'node:net'
import { join, relative } from 'node:path'
import { type Browser, type Page, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type GraphExpr, graphDot } from '../.vitepress/theme/demos/graphs.ts'
import { SOURCE_NODE_FLAGS } from '../../scripts/source-condition.ts'
import { serveStatic } from '../../consumer/test/browser.ts'
import { recordViolations, strictPolicy } from './csp.ts'

const root = new URL('../../', import.meta.url).pathname
const docsDir = join(root, 'docs')
const distDir = join(docsDir, '.vitepress', 'dist')
const artifactsDir = join(root, 'test-artifacts')
const CHROMIUM = '/usr/bin/chromium'
// The flags TOOLCHAIN.md found to work in containers; Playwright makes its own fresh profile.
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']
/** API pages are hundreds of near-identical TypeDoc pages: visit the index and this many, evenly spread. */
const API_SAMPLE = 10
/** Steps whose losses the demo check reads. */
const DEMO_STEPS = 30
/** Largest relative difference allowed between onnxruntime-web's logits and graphgrad's (float32). */
const ORT_TOLERANCE = 1e-5

const haveChromium = existsSync(CHROMIUM)
const skipReason = `${CHROMIUM} is missing (install it with \`apt-get install chromium\`; .ci/run does)`
if (!haveChromium) console.warn(`docs/test/browser.test.ts skipped: ${skipReason}`)

/** Runs a command to completion; rejects with its output's tail when it fails. */
function run(args: string[], what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (out += d.toString()))
    child.on('error', reject)
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${what} failed (exit ${code}):\n${out.slice(-3000)}`))))
  })
}

/** A TCP port nothing listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

/** Signals a whole process group; a group that is already gone is fine. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e
  }
}

/** Stops a server started by {@link startPreview}: its whole process group, whatever it started. */
async function stopServer(server: ChildProcess): Promise<void> {
  if (server.pid === undefined || server.exitCode !== null || server.signalCode !== null) return
  const exited = new Promise((r) => server.once('exit', () => r(true)))
  signalGroup(server.pid, 'SIGTERM')
  const done = await Promise.race([exited, new Promise((r) => setTimeout(() => r(false), 5000))])
  if (!done) signalGroup(server.pid, 'SIGKILL')
}

/** Starts `vitepress preview` in its own process group; resolves to its base URL once it serves pages. */
async function startPreview(port: number): Promise<{ server: ChildProcess; baseUrl: string }> {
  const cli = join(root, 'node_modules', 'vitepress', 'bin', 'vitepress.js')
  const server = spawn(process.execPath, [cli, 'preview', 'docs', '--host', '127.0.0.1', '--port', String(port)], {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  // Should this test process die before afterAll, the server must not outlive it.
  const killGroup = (): void => {
    if (server.pid !== undefined) signalGroup(server.pid, 'SIGKILL')
  }
  process.once('exit', killGroup)
  server.once('exit', () => process.off('exit', killGroup))
  let out = ''
  server.stdout?.on('data', (d: Buffer) => (out += d.toString()))
  server.stderr?.on('data', (d: Buffer) => (out += d.toString()))
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`vitepress preview exited (${server.exitCode}):\n${out}`)
    // It prints the URL with the site's base, e.g. "served at http://localhost:4173/graphgrad/".
    const base = /served at https?:\/\/[^/\s]+(\/\S*)/.exec(out)?.[1] ?? '/'
    const baseUrl = `http://127.0.0.1:${port}${base}`
    const ok = await fetch(baseUrl).then(
      (r) => r.ok,
      () => false,
    )
    if (ok) return { server, baseUrl }
    await new Promise((r) => setTimeout(r, 250))
  }
  await stopServer(server)
  throw new Error(`vitepress preview did not answer on port ${port} within 30 s:\n${out}`)
}

/** Every built page, as a path relative to the site root (`guide/autodiff.html`), 404 page left out. */
function builtPages(dir = distDir): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => {
      const path = join(dir, e.name)
      if (e.isDirectory()) return e.name === 'assets' ? [] : builtPages(path)
      return e.name.endsWith('.html') && e.name !== '404.html' ? [relative(distDir, path)] : []
    })
    .sort()
}

/** The markdown source of a built page, or '' (`guide/x.html` <- docs/guide/x.md, `demo/index.html` <- docs/demo/index.md). */
function sourceOf(page: string): string {
  const md = join(docsDir, page.replace(/\.html$/, '.md'))
  return existsSync(md) ? readFileSync(md, 'utf8') : ''
}

/** Markdown without its fenced code blocks and inline code (a `$$` there is not math). */
function withoutCode(md: string): string {
  return md.replace(/^(```|~~~)[\s\S]*?^\1/gm, '').replace(/`[^`\n]*`/g, '')
}

/** The URL path of a built page: `demo/index.html` -> `demo/`. */
function urlPath(page: string): string {
  return page.endsWith('index.html') ? page.slice(0, -'index.html'.length) : page
}

/** The op labels of a DOT source, one per node, in order. */
function dotLabels(dot: string): string[] {
  return [...dot.matchAll(/\[label="([^"\\]+)\\n/g)].map((m) => m[1])
}

describe.skipIf(!haveChromium)(`docs site in Chromium${haveChromium ? '' : ` (skipped: ${skipReason})`}`, () => {
  let server: ChildProcess | undefined
  let browser: Browser | undefined
  let page: Page
  let baseUrl = ''
  let pages: string[] = []
  /** Problems seen on the page currently visited (console errors, page errors, failed requests). */
  let problems: string[] = []

  beforeAll(async () => {
    // The docs helper's build (API reference, then VitePress), in its own process: VitePress
    // brings its own Vite, which must not meet the one Vitest runs on.
    await run([...SOURCE_NODE_FLAGS, join(docsDir, 'scripts', 'build.ts')], 'docs build (docs/scripts/build.ts)')
    pages = builtPages()
    ;({ server, baseUrl } = await startPreview(await freePort()))
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS })
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console error: ${m.text()}`)
    })
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.url()}`)
    })
  }, 300_000)

  afterAll(async () => {
    await browser?.close()
    if (server !== undefined) await stopServer(server)
  })

  /** Opens a built page and waits for its live figures; returns the problems seen on it. */
  async function visit(p: string): Promise<string[]> {
    problems = []
    const response = await page.goto(baseUrl + urlPath(p), { waitUntil: 'load', timeout: 30_000 })
    if (response === null || !response.ok()) problems.push(`HTTP ${response?.status()} for the page itself`)
    // Live figures set data-ready="true" once they have computed and drawn.
    await page
      .waitForFunction(() => Array.from(document.querySelectorAll('[data-ready]')).every((e) => e.getAttribute('data-ready') === 'true'), null, {
        timeout: 60_000,
      })
      .catch(() => problems.push('a live figure never became ready'))
    const shown = await page.locator('.gg-error').allTextContents()
    problems.push(...shown.map((t) => `figure shows an error: ${t}`))
    // Math is typeset at build time: no `$$` may be left in the text outside code.
    const rawMath = await page.evaluate(() => {
      const main = document.querySelector('.vp-doc') ?? document.body
      const clone = main.cloneNode(true) as HTMLElement
      clone.querySelectorAll('pre, code').forEach((e) => e.remove())
      return (clone.textContent ?? '').includes('$$')
    })
    if (rawMath) problems.push('raw $$ math in the text')
    return [...problems]
  }

  it('builds the pages, the demo among them', () => {
    expect(pages.length).toBeGreaterThan(5)
    expect(pages).toContain('demo/index.html')
  })

  it('loads every guide page and a sample of API pages without console errors, page errors or failed requests', async () => {
    const api = pages.filter((p) => p.startsWith('api/'))
    const stride = Math.max(1, Math.floor(api.length / API_SAMPLE))
    const sampled = api.filter((p, i) => p === 'api/index.html' || i % stride === 0)
    const visited = [...pages.filter((p) => !p.startsWith('api/')), ...sampled]
    const failures: string[] = []
    for (const p of visited) for (const problem of await visit(p)) failures.push(`${p}: ${problem}`)
    console.log(`browser test: visited ${visited.length} pages (${visited.length - sampled.length} non-API, ${sampled.length} of ${api.length} API pages)`)
    expect(failures).toEqual([])
  }, 240_000)

  it('typesets the math of every page with display math, the recurrent-networks guide among them', async () => {
    const mathPages = pages.filter((p) => /\$\$[\s\S]+?\$\$/.test(withoutCode(sourceOf(p))))
    expect(mathPages, 'pages with display math, the recurrent-networks guide among them').toContain(pages.find((p) => p.startsWith('guide/recurrent')))
    for (const p of mathPages) {
      expect(await visit(p), p).toEqual([])
      expect(await page.locator('.vp-doc mjx-container svg').count(), `typeset formulas on ${p}`).toBeGreaterThan(0)
    }
  }, 60_000)

  it("draws the LSTM cell from traceGraph, with the gates' ops as nodes, and every other graph as traced", async () => {
    const withGraph = pages.filter((p) => sourceOf(p).includes('<GraphView expr="lstm-cell"'))
    expect(withGraph.length, 'pages with <GraphView expr="lstm-cell" />').toBeGreaterThan(0)
    const drawn = pages.flatMap((p) => [...sourceOf(p).matchAll(/<GraphView expr="([\w-]+)"/g)].map((m) => ({ p, expr: m[1] as GraphExpr })))
    expect(drawn.map((d) => d.expr)).toContain('rnn-unrolled')
    for (const { p, expr } of drawn) {
      expect(await visit(p), p).toEqual([])
      const nodes = page.locator(`[data-testid="graph-svg-${expr}"] g.node`)
      // The first text of a node is its label: the op (or input) name.
      const labels = await nodes.evaluateAll((gs) => gs.map((g) => g.querySelector('text')?.textContent ?? ''))
      if (expr === 'lstm-cell') for (const op of ['matmul', 'add', 'sigmoid', 'tanh', 'mul']) expect(labels, p).toContain(op)
      // The picture must be exactly the graph traceGraph gives in Node for the same expression.
      expect([...labels].sort(), `${p}: ${expr}`).toEqual(dotLabels(graphDot(expr)).sort())
    }
  }, 90_000)

  it('trains the live demo in a worker: the loss falls over the first steps, and Stop stops it', async () => {
    expect(await visit('demo/index.html')).toEqual([])
    await page.getByTestId('demo-start').click()
    const losses = page.getByTestId('demo-losses')
    await page.waitForFunction(
      (n) => (document.querySelector('[data-testid="demo-losses"]')?.getAttribute('data-losses') ?? '').split(',').length >= n,
      DEMO_STEPS,
      { timeout: 90_000 },
    )
    const first = ((await losses.getAttribute('data-losses')) ?? '').split(',').slice(0, DEMO_STEPS).map(Number)
    expect(first.every(Number.isFinite)).toBe(true)
    const lastFive = first.slice(-5).reduce((a, b) => a + b, 0) / 5
    expect(lastFive).toBeLessThan(first[0])
    await expect.poll(() => page.getByTestId('demo-samples').locator('li').count(), { timeout: 30_000 }).toBeGreaterThan(0)
    mkdirSync(artifactsDir, { recursive: true })
    await page.screenshot({ path: join(artifactsDir, 'demo.png'), fullPage: true })
    await page.getByTestId('demo-stop').click()
    await page.waitForSelector('[data-testid="demo-start"]:not([disabled])', { timeout: 10_000 })
    const stepAt = async (): Promise<number> => Number(await page.getByTestId('demo-step').getAttribute('data-step'))
    const stoppedAt = await stepAt()
    await page.waitForTimeout(500)
    expect(await stepAt()).toBe(stoppedAt)
    expect(problems).toEqual([])
    console.log(
      `browser test: demo loss ${first[0].toFixed(3)} at step 1, mean ${lastFive.toFixed(3)} over steps ${DEMO_STEPS - 4}-${DEMO_STEPS}; screenshot test-artifacts/demo.png`,
    )
  }, 150_000)

  it("exports the model the reader trained and runs it in onnxruntime-web, under a strict CSP: the logits equal the page's within 1e-5 relative", async () => {
    if (browser === undefined) throw new Error('Chromium did not start')
    // The built site as a host could serve it: scripts from the site and VitePress's inline ones by hash, WebAssembly allowed, nothing else.
    const csp = strictPolicy(join(distDir, 'demo', 'index.html'))
    const site = await serveStatic(distDir, csp)
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const seen: string[] = []
    const requests: string[] = []
    try {
      await recordViolations(context)
      const demo = await context.newPage()
      demo.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') seen.push(`console ${m.type()}: ${m.text()}`)
      })
      demo.on('pageerror', (e) => seen.push(`page error: ${e.message}`))
      demo.on('requestfailed', (r) => seen.push(`request failed: ${r.url()}`))
      demo.on('request', (r) => requests.push(r.url()))
      await demo.goto(`${site.url}demo/`, { waitUntil: 'load', timeout: 30_000 })
      await demo.getByTestId('demo-start').click()
      await demo.waitForFunction(() => Number(document.querySelector('[data-testid="demo-step"]')?.getAttribute('data-step')) >= 20, null, { timeout: 90_000 })
      await demo.getByTestId('demo-onnx').click()
      const result = demo.getByTestId('demo-onnx-result')
      await demo.waitForSelector('[data-testid="demo-onnx-result"][data-ready="true"]', { timeout: 90_000 })
      const numbers = async (attr: string): Promise<number[]> => ((await result.getAttribute(attr)) ?? '').split(',').filter(Boolean).map(Number)
      const [ours, theirs] = [await numbers('data-graphgrad'), await numbers('data-ort')]
      expect(await demo.getByTestId('demo-onnx-run-error').count()).toBe(0)
      expect(ours.length).toBeGreaterThan(0)
      expect(theirs.length).toBe(ours.length)
      expect(ours.every(Number.isFinite) && theirs.every(Number.isFinite)).toBe(true)
      const worst = ours.reduce((w, v, i) => Math.max(w, Math.abs(theirs[i] - v) / Math.max(1, Math.abs(v))), 0)
      expect(worst).toBeLessThan(ORT_TOLERANCE)
      // Everything, the runtime's .wasm included, came from the site itself.
      expect(requests.filter((u) => !u.startsWith(site.url) && !u.startsWith('data:'))).toEqual([])
      expect(requests.some((u) => u.endsWith('.wasm') && u.includes('ort-wasm'))).toBe(true)
      expect(await demo.evaluate(() => (window as unknown as { __violations: string[] }).__violations)).toEqual([])
      expect(seen).toEqual([])
      mkdirSync(artifactsDir, { recursive: true })
      await result.screenshot({ path: join(artifactsDir, 'demo-onnx.png') })
      await demo.getByTestId('demo-stop').click()
      console.log(
        `browser test: onnxruntime-web ran the demo's exported model on ${ours.length} logits, largest relative difference from graphgrad ${worst.toExponential(2)}, under ${csp.split(';')[1].trim().split(' ').slice(0, 3).join(' ')} ...`,
      )
    } finally {
      await context.close()
      await site.close()
    }
  }, 200_000)
})
