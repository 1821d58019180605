/**
 * The consumer test's project: the four packages packed as npm would publish them, installed
 * with npm into a fresh project under the system's temp folder (outside the repository, so
 * nothing can resolve to the workspace's sources), with the fixtures copied in. Plus the
 * small helpers the tests share: running a child with a timeout, and the README's code blocks.
 * @module
 */
import { spawn } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository's root folder (with a trailing slash). */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url))
/** The consumer test's fixtures: the files a user would write, copied into the temp project. */
const fixturesDir = join(repoRoot, 'consumer', 'fixtures')
/** The packages, in the stages they are packed in: each stage's builds read the declarations of the earlier ones. */
const PACK_STAGES = [['core'], ['layers', 'optim', 'onnx'], ['gradcheck']] as const
/** Packages installed next to the tarballs: the peer dependency, and Node's types for the node16 typecheck. */
const EXTRA_DEPENDENCIES = ['immutable@5.2.1', '@types/node@20.19.43']

/** The outcome of a child process that ran to its end. */
export interface Finished {
  /** Its exit code (null when a signal ended it). */
  readonly code: number | null
  /** Everything it wrote to stdout. */
  readonly stdout: string
  /** Everything it wrote to stderr. */
  readonly stderr: string
}

/** The last lines of a child's output, for error messages. */
export function tail(text: string, lines = 40): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n')
}

/**
 * The environment for children: this process's, without what the test runner and pnpm put
 * there (NODE_OPTIONS with the workspace's source condition, NODE_ENV=test, npm_config_*),
 * which a user's shell would not have.
 */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(NODE_OPTIONS|NODE_PATH|NODE_ENV|INIT_CWD|VITEST.*|TINYPOOL.*|npm_.*|PNPM_.*)$/i.test(k)) continue
    env[k] = v
  }
  return { ...env, NO_COLOR: '1', ...extra }
}

/**
 * Runs a command in its own process group to its end, whatever its exit code; kills the
 * group and rejects (with the output's tail) when it takes longer than `timeoutMs`.
 */
export function runChild(command: string, args: readonly string[], cwd: string, timeoutMs: number, env = userEnv()): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const what = `${command} ${args.join(' ')} (in ${cwd})`
    const timer = setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
      } catch {
        // Already gone.
      }
      reject(new Error(`${what} timed out after ${timeoutMs / 1000} s:\n${tail(stdout + stderr)}`))
    }, timeoutMs)
    child.on('error', (e) => {
      clearTimeout(timer)
      reject(new Error(`${what} could not start: ${e.message}`))
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** {@link runChild}, rejecting with the output's tail unless the command exits 0. */
export async function mustRun(command: string, args: readonly string[], cwd: string, timeoutMs: number, env?: NodeJS.ProcessEnv): Promise<Finished> {
  const r = await runChild(command, args, cwd, timeoutMs, env)
  if (r.code !== 0) throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited ${r.code}:\n${tail(r.stdout + r.stderr)}`)
  return r
}

/** The temp project the tests work in. */
export interface ConsumerProject {
  /** The temp folder holding everything (removed by {@link removeProject}). */
  readonly root: string
  /** The user's project: package.json, node_modules, the fixtures. */
  readonly dir: string
  /** Each package's tarball, by package folder name (`core`, ...). */
  readonly tarballs: Readonly<Record<string, string>>
  /** Seconds spent packing and installing. */
  readonly seconds: { readonly pack: number; readonly install: number }
}

/** Packs one package (its prepack builds it) into `dest`; returns the tarball's path. */
async function packPackage(name: string, dest: string): Promise<string> {
  const dir = join(repoRoot, 'packages', name)
  await mustRun('pnpm', ['pack', '--pack-destination', dest], dir, 120_000)
  const file = readdirSync(dest).find((f) => f.startsWith(`graphgrad-${name}-`) && f.endsWith('.tgz'))
  if (file === undefined) throw new Error(`pnpm pack in packages/${name} wrote no graphgrad-${name}-*.tgz into ${dest}`)
  return join(dest, file)
}

/**
 * Packs the four packages and installs them with npm into a new project under the system's
 * temp folder, then copies the fixtures (check files, scripts, the page's files) into it.
 */
export async function setUpProject(): Promise<ConsumerProject> {
  const root = mkdtempSync(join(tmpdir(), 'graphgrad-consumer-'))
  try {
    const packDir = join(root, 'tarballs')
    const dir = join(root, 'project')
    mkdirSync(packDir)
    mkdirSync(dir)
    const started = performance.now()
    const tarballs: Record<string, string> = {}
    for (const stage of PACK_STAGES) {
      const packed = await Promise.all(stage.map((name) => packPackage(name, packDir)))
      stage.forEach((name, i) => (tarballs[name] = packed[i]))
    }
    const packed = performance.now()
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'graphgrad-consumer', private: true, type: 'module' }, null, 2)}\n`)
    await mustRun('npm', ['install', '--no-audit', '--no-fund', ...Object.values(tarballs), ...EXTRA_DEPENDENCIES], dir, 180_000)
    // The user's files at the project's root: the page's too (Vite's root is the project).
    for (const entry of readdirSync(fixturesDir)) {
      cpSync(join(fixturesDir, entry), entry === 'page' ? dir : join(dir, entry), { recursive: true })
    }
    const seconds = { pack: (packed - started) / 1000, install: (performance.now() - packed) / 1000 }
    return { root, dir, tarballs, seconds }
  } catch (e) {
    rmSync(root, { recursive: true, force: true })
    throw e
  }
}

/** Removes the temp folder of {@link setUpProject}. */
export function removeProject(project: ConsumerProject | undefined): void {
  if (project !== undefined) rmSync(project.root, { recursive: true, force: true })
}

/** A file's size in KiB, with one decimal. */
export function kib(bytes: number): string {
  return (bytes / 1024).toFixed(1)
}

/** The size of a file in bytes. */
export function fileSize(path: string): number {
  return statSync(path).size
}

/**
 * The first fenced code block in `lang` after the README's heading `heading` (and before the
 * next `## ` heading), as written.
 */
export function readmeBlock(heading: string, lang: string): string {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8')
  const start = readme.indexOf(`\n${heading}\n`)
  if (start < 0) throw new Error(`README.md has no '${heading}' heading`)
  const next = readme.indexOf('\n## ', start + heading.length + 1)
  const section = readme.slice(start, next < 0 ? undefined : next)
  const block = new RegExp(`^\`\`\`${lang}\\n([\\s\\S]*?)^\`\`\`$`, 'm').exec(section)
  if (block === null) throw new Error(`README.md's '${heading}' section has no \`\`\`${lang} block`)
  return block[1]
}
