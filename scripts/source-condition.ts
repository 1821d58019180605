/**
 * The export condition under which the workspace's packages resolve to their TypeScript
 * sources instead of their built `dist/` (see each package's `exports`). Tests, scripts,
 * the bench and the docs site turn it on, so nothing inside the repository needs a build;
 * users' tools never set it and get the built JavaScript.
 * @module
 */

/** The condition's name, as in the packages' `exports` maps. */
export const SOURCE_CONDITION = '@graphgrad/source'

/** Node flags that run a TypeScript file against the workspace's sources: `node ...SOURCE_NODE_FLAGS file.ts`. */
export const SOURCE_NODE_FLAGS: readonly string[] = [`--conditions=${SOURCE_CONDITION}`, '--import', 'tsx']
