// Builds the consumer page with the workspace's Vite (production build), run as
// `node build-page.mjs <project>` with NODE_ENV=production, in its own process so that the test
// runner's Vite and environment stay out of it. `root` is the temp project, so `@graphgrad/*`
// resolve from its node_modules. graphgrad and immutable go into chunks of their own, so their
// sizes can be measured. Writes <project>/dist and <project>/build-info.json: every chunk with
// its file name, name and module ids.
import { writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { build } from 'vite'

const root = resolve(process.argv[2])
const result = await build({
  root,
  configFile: false,
  mode: 'production',
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    rolldownOptions: {
      output: {
        codeSplitting: {
          groups: [
            { name: 'graphgrad', test: /[\\/]node_modules[\\/]@graphgrad[\\/]/ },
            { name: 'immutable', test: /[\\/]node_modules[\\/]immutable[\\/]/, priority: 1 },
          ],
        },
      },
    },
  },
})
const outputs = (Array.isArray(result) ? result : [result]).flatMap((r) => r.output)
const chunks = outputs.filter((o) => o.type === 'chunk').map((c) => ({ fileName: c.fileName, name: c.name, moduleIds: c.moduleIds }))
writeFileSync(join(root, 'build-info.json'), JSON.stringify({ chunks }, null, 2))
