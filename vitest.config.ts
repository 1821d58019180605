import { defaultServerConditions } from 'vite'
import { defineConfig } from 'vitest/config'
import { SOURCE_CONDITION } from './scripts/source-condition.ts'

export default defineConfig({
  // Tests import the workspace's packages from their TypeScript sources (no build needed).
  resolve: { conditions: [SOURCE_CONDITION, ...defaultServerConditions] },
  ssr: { resolve: { conditions: [SOURCE_CONDITION, ...defaultServerConditions] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/test/**/*.test.ts', 'bench/test/**/*.test.ts', 'docs/test/**/*.test.ts', 'consumer/test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Heap checks in the memory test need an explicit gc(); spawned tsx children inherit the source condition.
    execArgv: ['--expose-gc', `--conditions=${SOURCE_CONDITION}`],
  },
})
