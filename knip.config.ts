/**
 * knip: no unused files, exports or dependencies (part of `pnpm test`). Entries are what runs:
 * the packages' entry points and bin, commands, tests, the docs site, and files that tests load
 * by path at run time (fixtures).
 * @module
 */
import type { KnipConfig } from 'knip'

const config: KnipConfig = {
  workspaces: {
    '.': {
      entry: [
        'scripts/*.ts',
        'scripts/*.mjs',
        'consumer/test/*.test.ts',
        'consumer/scripts/*.mjs',
        // Loaded by path in the consumer's temp project, not imported.
        'consumer/fixtures/**/*.{mjs,ts,js}',
        'docs/.vitepress/config.mts',
        'docs/.vitepress/theme/index.ts',
        'docs/test/*.test.ts',
        'docs/scripts/*.ts',
        'docs/demo/*.worker.ts',
      ],
      project: ['scripts/**/*.{ts,mjs}', 'consumer/**/*.{ts,mjs,js}', 'docs/**/*.{ts,mts,vue}', '!docs/api/**', '!docs/.samples/**'],
      ignoreDependencies: [
        // Pinned for markdown-it-mathjax3 (reached through cheerio); pnpm skipped it as optional.
        'tslib',
        // Run as binaries by path (node_modules/.bin) from the consumer test.
        'publint',
        '@arethetypeswrong/cli',
      ],
    },
    // The entry points in package.json (exports, bin) count on their own.
    'packages/*': {
      entry: ['test/**/*.test.ts'],
      project: ['src/**/*.ts', 'test/**/*.ts'],
    },
    'packages/core': {
      // What @graphgrad/core/node resolves to outside Node (the exports' default condition).
      entry: ['test/**/*.test.ts', 'src/node-unavailable.ts'],
      project: ['src/**/*.ts', 'test/**/*.ts'],
    },
    'packages/onnx': {
      // What @graphgrad/onnx/node resolves to outside Node (the exports' default condition).
      entry: ['test/**/*.test.ts', 'src/node-unavailable.ts'],
      project: ['src/**/*.ts', 'test/**/*.ts'],
    },
    'packages/gradcheck': {
      // Check files the CLI tests load by path.
      entry: ['test/**/*.test.ts', 'test/fixtures/**/*.ts'],
      project: ['src/**/*.ts', 'test/**/*.ts', 'bin/*.js'],
    },
    examples: {
      entry: ['src/*/cli.ts', 'test/**/*.test.ts'],
      project: ['src/**/*.ts', 'test/**/*.ts'],
    },
    bench: {
      entry: ['src/child.ts', 'test/**/*.test.ts'],
      project: ['src/**/*.ts', 'test/**/*.ts'],
    },
  },
  // Vue single-file components: knip follows the imports of their <script> blocks.
  compilers: {
    vue: (text: string) => [...text.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]).join('\n'),
  },
}

export default config
