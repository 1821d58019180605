/**
 * Checks from a user's file: `graphgrad-gradcheck checks.mjs` (or `pnpm gradcheck file.ts` in
 * this repository) imports the file and checks the functions it exports as `checks`, the same
 * way as the core's ops.
 * @module
 */
import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'
import { dirname, extname, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Tensor } from '@graphgrad/core'
import type { GradcheckOptions } from './gradcheck.ts'
import { GradcheckError } from './inputs.ts'
import type { CheckTarget } from './registry-runner.ts'

/**
 * One check in a user's file. The file exports an array of them as `checks` (or as its
 * default export):
 *
 * ```ts
 * // my-model.gradcheck.ts, run with `pnpm gradcheck my-model.gradcheck.ts`
 * import { tensor, tanh, matmul, sum } from '@graphgrad/core'
 * import { OrderedMap } from 'immutable'
 * import { defineCheck } from '@graphgrad/gradcheck'
 *
 * const params = OrderedMap({ w: tensor([[0.1, 0.2], [0.3, -0.4]], { dtype: 'float64' }) })
 * const x = tensor([[1, 2]], { dtype: 'float64' })
 * export const checks = [
 *   defineCheck({ name: 'tiny model', fn: (p, x) => sum(tanh(matmul(x, p.get('w')!))), inputs: [params, x], options: { inputNames: ['params', 'x'] } }),
 * ]
 * ```
 *
 * `inputs` may also be a function of a seed, to check several random points (`cases` of them);
 * each case's seed comes from the run's `--seed`, the check's name and the case number, so a
 * rerun with the same `--seed` checks the same points (the table's label shows the seed).
 */
export interface UserCheck {
  /** Name shown in the table and matched by `--only`. */
  readonly name: string
  /** The function to check; it takes `inputs` positionally and returns a tensor. */
  readonly fn: (...inputs: never[]) => Tensor
  /** float64 tensors or trees of them (Immutable.js maps), or a function drawing them from a seed (a 31-bit integer). */
  readonly inputs: readonly unknown[] | ((seed: number) => readonly unknown[])
  /** Cases to draw when `inputs` is a function (default 4; fixed inputs are one case). */
  readonly cases?: number
  /** Tolerances, names of the inputs, fast mode, ... */
  readonly options?: GradcheckOptions
  /** Set false to skip the check under `--order 2`. */
  readonly secondOrder?: boolean
}

/**
 * Types a {@link UserCheck} from its inputs, so `fn`'s parameters get the inputs' types
 * (a plain object literal works too, with untyped parameters).
 */
export function defineCheck<A extends readonly unknown[]>(
  check: Omit<UserCheck, 'fn' | 'inputs'> & { fn: (...inputs: A) => Tensor; inputs: readonly [...A] | ((seed: number) => readonly [...A]) },
): UserCheck {
  return check as unknown as UserCheck
}

function isUserCheck(x: unknown): x is UserCheck {
  if (x === null || typeof x !== 'object') return false
  const c = x as Record<string, unknown>
  return typeof c.name === 'string' && typeof c.fn === 'function' && (Array.isArray(c.inputs) || typeof c.inputs === 'function')
}

/** Turns a user's check into a target the runner can check. */
export function userTarget(check: UserCheck): CheckTarget {
  const draw = check.inputs
  const fixed = typeof draw !== 'function'
  return {
    name: check.name,
    source: 'user',
    cases: fixed ? 1 : check.cases,
    options: check.options,
    spec: {
      secondOrder: check.secondOrder,
      atol: check.options?.atol,
      rtol: check.options?.rtol,
      // The runner seeds the sampler with caseSeed(--seed, name, case): the draw's seed follows from those alone.
      sample: (s) => {
        const fn = check.fn as unknown as (...t: Tensor[]) => Tensor
        if (fixed) return { inputs: draw as Tensor[], fn, label: 'given inputs' }
        const seed = s.int(0, 2 ** 31 - 1)
        return { inputs: draw(seed) as Tensor[], fn, label: `seed ${seed}` }
      },
    },
  }
}

/** Imports a user's file and returns its checks as targets; a file without checks is an error. */
export async function loadUserChecks(file: string): Promise<CheckTarget[]> {
  const mod = await importCheckFile(file)
  const list = mod.checks ?? mod.default
  if (!Array.isArray(list)) {
    throw new GradcheckError(
      `${file}: expected the file to export 'checks' (or a default export): an array of { name, fn, inputs }; found ${list === undefined ? 'neither' : typeof list}`,
    )
  }
  return list.map((c, i) => {
    if (!isUserCheck(c))
      throw new GradcheckError(`${file}: checks[${i}] is not a check: expected { name: string, fn: function, inputs: array or (seed) => array }`)
    return userTarget(c)
  })
}

const TYPESCRIPT = new Set(['.ts', '.mts', '.cts', '.tsx'])

/**
 * Imports a check file. `.js` and `.mjs` files load with plain Node. A TypeScript file loads
 * as it is where something already compiles TypeScript (tsx, a test runner); otherwise tsx
 * is looked up from the working directory (the user's project) and registered, and when it
 * is not installed the error says how to get it.
 */
async function importCheckFile(file: string): Promise<Record<string, unknown>> {
  const path = resolve(file)
  const url = pathToFileURL(path).href
  try {
    return (await import(url)) as Record<string, unknown>
  } catch (e) {
    if (!TYPESCRIPT.has(extname(path)) || (e as { code?: unknown }).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw e
  }
  const tsx = await loadTsx()
  if (tsx === null) {
    throw new GradcheckError(`${file}: a TypeScript check file needs tsx to load: install it (npm install --save-dev tsx) or write the checks as a .mjs file`)
  }
  // register() hooks Node's own loader (not a namespace of tsx's own), so the file and the CLI
  // share one copy of @graphgrad/core; the query makes Node retry the URL whose load failed above.
  tsx.register()
  return (await import(`${url}?tsx`)) as Record<string, unknown>
}

interface TsxApi {
  register(): unknown
}

/** tsx's ES-module API from the user's project (or next to this package), or null when it is not installed. */
async function loadTsx(): Promise<TsxApi | null> {
  for (const base of [pathToFileURL(`${process.cwd()}/`).href, import.meta.url]) {
    let manifest: string
    try {
      manifest = createRequire(base).resolve('tsx/package.json')
    } catch (e) {
      if ((e as { code?: unknown }).code === 'MODULE_NOT_FOUND') continue
      throw e
    }
    // The ESM build: tsx's CommonJS API locates its loader relative to itself and fails from a require().
    const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { exports?: Record<string, { import?: { default?: string } } | string> }
    const api = pkg.exports?.['./esm/api']
    const entry = typeof api === 'object' ? api.import?.default : undefined
    if (entry === undefined) throw new GradcheckError(`tsx at ${dirname(manifest)} has no ES-module API (tsx/esm/api); install tsx 4 or newer`)
    return (await import(pathToFileURL(join(dirname(manifest), entry)).href)) as TsxApi
  }
  return null
}
