/**
 * `pnpm docs:build`: generates the API reference from the TSDoc, then builds the VitePress
 * site into docs/.vitepress/dist. VitePress fails the build on a dead internal link.
 * `buildSite()` is exported for tests that need the built site.
 * @module
 */
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { build } from 'vitepress'
import { generateApiReference, repoRoot } from './api.ts'

/** The site's source folder. */
export const docsDir = join(repoRoot, 'docs')

/** Where `vitepress build` writes the static site. */
export const distDir = join(docsDir, '.vitepress', 'dist')

/**
 * VitePress reports any failure to load the math plugin as "You need to install
 * markdown-it-mathjax3", even when the plugin is installed and one of its own dependencies is
 * missing; load it first so that the error names the real cause.
 */
async function checkMathPlugin(): Promise<void> {
  try {
    await import('markdown-it-mathjax3')
  } catch (e) {
    throw new Error(
      `the math plugin markdown-it-mathjax3 cannot be loaded: ${e instanceof Error ? e.message.split('\n')[0] : String(e)} (a package it needs is missing from node_modules)`,
    )
  }
}

/** Builds the whole site (API reference first); resolves to the output folder. Throws on any failure. */
export async function buildSite(): Promise<string> {
  await checkMathPlugin()
  await generateApiReference()
  await build(docsDir)
  return distDir
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const started = Date.now()
  const apiOnly = process.argv.includes('--api-only')
  try {
    if (apiOnly) await generateApiReference()
    else await buildSite()
    console.log(`docs: ${apiOnly ? 'API reference generated in docs/api' : `site built in ${distDir}`} (${((Date.now() - started) / 1000).toFixed(1)} s)`)
  } catch (e) {
    console.error(`docs:build failed: ${e instanceof Error ? e.message : String(e)}`)
    process.exitCode = 1
  }
}
