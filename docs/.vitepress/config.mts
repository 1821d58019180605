/**
 * The docs site's configuration: navigation, sidebar (the guides plus the API reference that
 * TypeDoc generates into docs/api/), math rendered at build time, dead links fatal.
 * @module
 */
import { readFileSync } from 'node:fs'
import { defineConfig, type DefaultTheme } from 'vitepress'
import { apiReferenceExists, apiSidebarFile, generateApiReference } from '../scripts/api.ts'
import { SOURCE_CONDITION } from '../../scripts/source-condition.ts'

/** The guide pages, in reading order. site.test.ts checks every page of the site is listed somewhere. */
export const guide: DefaultTheme.SidebarItem[] = [
  { text: 'Getting started', link: '/guide/getting-started' },
  { text: 'Autodiff and the graph', link: '/guide/autodiff' },
  { text: 'Recurrent networks, step by step', link: '/guide/recurrent-networks' },
  { text: 'Attention, transformers, normalisation', link: '/guide/attention' },
  { text: 'Convolution and pooling', link: '/guide/convolution' },
  { text: 'Layers, losses, optimizers, schedules', link: '/guide/layers-and-optimizers' },
  { text: 'Gradient checking', link: '/guide/gradient-checking' },
  { text: 'PyTorch interop', link: '/guide/pytorch-interop' },
  { text: 'Export to ONNX', link: '/guide/onnx' },
  { text: 'Performance', link: '/guide/performance' },
]

/** Pages for people changing graphgrad itself. */
export const contributing: DefaultTheme.SidebarItem[] = [
  { text: 'Design', link: '/design' },
  { text: 'Adding an op', link: '/guide/adding-an-op' },
]

/** The live in-browser training demo (its page is docs/demo/index.md). */
export const demo: DefaultTheme.SidebarItem = { text: 'Live demo', link: '/demo/' }

/** The API reference's sidebar, as typedoc-vitepress-theme wrote it. */
function apiSidebar(): DefaultTheme.SidebarItem[] {
  return JSON.parse(readFileSync(apiSidebarFile, 'utf8')) as DefaultTheme.SidebarItem[]
}

/** The whole sidebar: guides everywhere, the API tree under /api/. */
export function sidebar(): DefaultTheme.SidebarMulti {
  const guides: DefaultTheme.SidebarItem[] = [
    { text: 'Guide', items: [...guide, demo] },
    { text: 'Contributing', items: contributing },
    { text: 'Reference', items: [{ text: 'API reference', link: '/api/' }] },
  ]
  return {
    '/api/': [{ text: 'API reference', link: '/api/', items: apiSidebar() }, ...guides.slice(0, 2)],
    '/': guides,
  }
}

export default async () => {
  // `pnpm docs:build` generates the reference first; `pnpm docs:dev` on a fresh checkout does it here (about 20 s, once).
  if (!apiReferenceExists()) await generateApiReference()
  return defineConfig({
    title: 'graphgrad',
    description:
      'Automatic differentiation in TypeScript: tensors, reverse-mode autodiff over an explicit graph, recurrent layers, optimizers, gradient checking.',
    lang: 'en-US',
    head: [['link', { rel: 'icon', type: 'image/svg+xml', href: '/favicon.svg' }]],
    lastUpdated: false,
    // Only the pages: the tests and scripts in docs/ are not part of the site.
    srcExclude: ['test/**', 'scripts/**'],
    markdown: { math: true, lineNumbers: false },
    // The site runs graphgrad from the workspace's TypeScript sources, not from built packages.
    vite: { resolve: { conditions: [SOURCE_CONDITION] }, ssr: { resolve: { conditions: [SOURCE_CONDITION] } } },
    // Every internal link must resolve: a dead link fails the build.
    ignoreDeadLinks: false,
    themeConfig: {
      nav: [
        { text: 'Guide', link: '/guide/getting-started', activeMatch: '^/guide/' },
        { text: 'Live demo', link: '/demo/' },
        { text: 'API', link: '/api/', activeMatch: '^/api/' },
        { text: 'Design', link: '/design' },
      ],
      sidebar: sidebar(),
      outline: { level: [2, 3] },
      search: { provider: 'local' },
    },
  })
}
