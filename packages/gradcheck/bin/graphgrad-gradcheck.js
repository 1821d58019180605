#!/usr/bin/env node
// The installed `graphgrad-gradcheck` command: runs the built CLI with plain Node.
// (Inside the graphgrad repository, use `pnpm gradcheck`, which runs the TypeScript sources.)
import { existsSync } from 'node:fs'

const cli = new URL('../dist/cli.js', import.meta.url)
if (!existsSync(cli)) {
  process.stderr.write(
    'graphgrad-gradcheck: this copy of @graphgrad/gradcheck is not built (dist/cli.js is missing); run `pnpm build`, or `pnpm gradcheck` inside the repository\n',
  )
  process.exit(2)
}
const { run } = await import(cli.href)
run(process.argv.slice(2))
