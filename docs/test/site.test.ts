// The site's structure, without building it (browser.test.ts builds and serves it): every page
// is in the navigation, every navigation entry and every internal link of a page leads to a
// page that exists (and to a heading that exists, for links with an anchor).
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import type { DefaultTheme } from 'vitepress'
import { describe, expect, it } from 'vitest'
import { contributing, demo, guide } from '../.vitepress/config.mts'
import { docPages, repoRoot } from '../scripts/code-blocks.ts'

const docsDir = join(repoRoot, 'docs')

/** The markdown file a site path such as `/guide/autodiff` or `/demo/` is built from (relative to docs/). */
function pageFile(link: string): string {
  const path = link.replace(/[#?].*$/, '').replace(/\.(md|html)$/, '')
  return (path.endsWith('/') ? `${path}index` : path).replace(/^\//, '') + '.md'
}

function links(items: readonly DefaultTheme.SidebarItem[]): string[] {
  return items.flatMap((i) => [...(i.link === undefined ? [] : [i.link]), ...links(i.items ?? [])])
}

/** VitePress's heading anchors for plain headings: lower case, code marks dropped, other runs of punctuation and spaces as one '-'. */
function slug(heading: string): string {
  return heading
    .replace(/`/g, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-|-$/g, '')
}

function headings(file: string): Set<string> {
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '')
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1])))
}

const navLinks = links([...guide, ...contributing, demo])

describe('docs site structure', () => {
  it('every page but the home page is in the sidebar', () => {
    const listed = new Set(navLinks.map(pageFile))
    const unlisted = docPages()
      .map((p) => relative(docsDir, join(repoRoot, p)))
      .filter((p) => p !== 'index.md' && !listed.has(p))
    expect(unlisted).toEqual([])
  })

  it('every sidebar entry is a page', () => {
    expect(navLinks.filter((l) => !existsSync(join(docsDir, pageFile(l))))).toEqual([])
  })

  it('every internal link of a page leads to a page and heading that exist', () => {
    const dead: string[] = []
    let checked = 0
    for (const page of docPages()) {
      const file = join(repoRoot, page)
      const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '')
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target)) continue // external
        const [path, anchor] = target.split('#')
        if (path.startsWith('/api/')) continue // generated at build time; VitePress checks these links when it builds
        checked++
        const dest =
          path === ''
            ? file
            : path.startsWith('/')
              ? join(docsDir, pageFile(path))
              : normalize(join(dirname(file), path.endsWith('/') ? `${path}index.md` : path))
        if (!existsSync(dest)) dead.push(`${page}: ${target} (no ${relative(repoRoot, dest)})`)
        else if (anchor !== undefined && dest.endsWith('.md') && !headings(dest).has(anchor)) dead.push(`${page}: ${target} (no heading #${anchor})`)
      }
    }
    expect(dead).toEqual([])
    expect(checked).toBeGreaterThan(20)
  })
})
