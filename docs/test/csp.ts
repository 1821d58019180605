/**
 * The docs site under a strict Content-Security-Policy, for the browser test: the policy a
 * host could send with the built site (scripts from the site itself and VitePress's own inline
 * scripts by hash, WebAssembly compilation allowed, nothing from elsewhere), and a page that
 * records every violation of it.
 * @module
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { BrowserContext } from 'playwright-core'

/** The sha256 sources of a built page's inline scripts (VitePress's dark-mode check, its hash map). */
function inlineScriptHashes(html: string): string[] {
  return [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)]
    .filter((m) => m[1].length > 0)
    .map((m) => `'sha256-${createHash('sha256').update(m[1]).digest('base64')}'`)
}

/**
 * The policy for a built page (`file`, its HTML): `script-src 'self' 'wasm-unsafe-eval'` plus its
 * inline scripts' hashes, everything else from the site itself (styles inline too, as Vue sets
 * them on elements; images as data: URLs too).
 */
export function strictPolicy(file: string): string {
  const hashes = inlineScriptHashes(readFileSync(file, 'utf8'))
  return [
    "default-src 'self'",
    `script-src 'self' 'wasm-unsafe-eval' ${hashes.join(' ')}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'self'",
  ].join('; ')
}

/** Makes every page of `context` record its CSP violations in `window.__violations` (`<directive> blocked <uri> at <file>:<line>`). */
export async function recordViolations(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const seen: string[] = []
    ;(window as unknown as { __violations: string[] }).__violations = seen
    document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.effectiveDirective} blocked ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`))
  })
}
