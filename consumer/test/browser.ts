/**
 * The consumer page in a browser: a small static server for the built page that sends a
 * Content-Security-Policy header, and a visit in Chromium that collects what the page reports
 * and every problem it shows (console errors, page errors, failed requests, CSP violations).
 * @module
 */
import { readFileSync } from 'node:fs'
import { type Server, createServer } from 'node:http'
import { extname, join, normalize } from 'node:path'
import type { Browser } from 'playwright-core'

/** Debian's Chromium; the test never downloads a browser. */
export const CHROMIUM = '/usr/bin/chromium'
/** The flags docs/test/browser.test.ts uses in containers. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
]

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.css': 'text/css',
  '.map': 'application/json',
}

/** A running static server. */
export interface StaticServer {
  /** `http://127.0.0.1:PORT/`. */
  readonly url: string
  /** Stops it. */
  close(): Promise<void>
}

/** The headers that make a page cross-origin isolated (SharedArrayBuffer, so the GEMM's threads). */
export const ISOLATED: Readonly<Record<string, string>> = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' }

/** Serves `dir` on 127.0.0.1 (a free port the system picks), every response with `csp` as its Content-Security-Policy, and `headers`. */
export function serveStatic(dir: string, csp: string, headers: Readonly<Record<string, string>> = {}): Promise<StaticServer> {
  const server: Server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname))
    const file = join(dir, path.endsWith('/') ? `${path}index.html` : path)
    let body: Buffer
    try {
      if (!file.startsWith(dir)) throw new Error('outside the root')
      body = readFileSync(file)
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain', 'Content-Security-Policy': csp, ...headers }).end('not found')
      return
    }
    res.writeHead(200, {
      'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Security-Policy': csp,
      'Cache-Control': 'no-store',
      ...headers,
    })
    res.end(body)
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      if (address === null || typeof address === 'string') return reject(new Error('the static server has no port'))
      resolve({
        url: `http://127.0.0.1:${address.port}/`,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections()
            server.close(() => done())
          }),
      })
    })
  })
}

/** What the consumer page wrote into `#result` (see consumer/fixtures/page/main.js). */
interface PageResult {
  /** False when training threw. */
  readonly ok: boolean
  /** The loss at each training step. */
  readonly losses?: number[]
  /** `gemmBackend()` after training. */
  readonly gemm?: string
  /** `numThreads()`: above 1 only in a cross-origin isolated page. */
  readonly threads?: number
  /** Whether the GEMM's Web Workers ran parts of products. */
  readonly workers?: boolean
  /** The error's name and message, when training threw. */
  readonly error?: string
}

/** A visit: the page's result and the problems seen on the way. */
export interface Visit {
  /** What the page wrote, or null when it wrote nothing. */
  readonly result: PageResult | null
  /** Console errors, page errors, failed requests. */
  readonly problems: string[]
  /** The page's `securitypolicyviolation` events: `<directive> blocked <what> at <file>:<line>`. */
  readonly violations: string[]
}

/** Opens `url` in a fresh browser context, waits for the page's result and collects every problem and CSP violation. */
export async function visitPage(browser: Browser, url: string, timeoutMs = 30_000): Promise<Visit> {
  const context = await browser.newContext()
  const problems: string[] = []
  try {
    const page = await context.newPage()
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console error: ${m.text()}`)
    })
    page.on('pageerror', (e) => problems.push(`page error: ${e.name}: ${e.message}`))
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText ?? '?'})`))
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.url()}`)
    })
    // An error thrown while the bundle evaluates means no result will come: stop waiting then.
    const failed = new Promise<false>((resolve) => page.once('pageerror', () => resolve(false)))
    await page.goto(url, { waitUntil: 'load', timeout: timeoutMs })
    const written = page.waitForSelector('#result[data-done="true"]', { timeout: timeoutMs }).then(
      () => true,
      () => false,
    )
    const done = await Promise.race([written, failed])
    if (!done) problems.push(`the page wrote no result (waited up to ${timeoutMs / 1000} s, or until a page error)`)
    const text = done ? await page.locator('#result').textContent() : null
    const violations = await page.evaluate(() => (window as unknown as { __violations?: string[] }).__violations ?? ['the violation listener did not run'])
    return { result: text === null ? null : (JSON.parse(text) as PageResult), problems, violations }
  } finally {
    await context.close()
  }
}
