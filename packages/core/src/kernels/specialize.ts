/**
 * Kernel specialisation. V8 optimises a loop for the typed-array classes it has seen; one
 * loop fed both Float32Array and Float64Array runs about 2x slower. So each kernel exists
 * once per (operation, input dtype, output dtype), each copy only ever sees one array class,
 * and the scalar expression is inlined, so the hot loop has no call and no closure per element.
 *
 * The copies must be distinct function literals in the source: closures made by one factory
 * share V8's type feedback, so they would not be monomorphic. They are not compiled from
 * strings at run time either (a Content-Security-Policy without 'unsafe-eval' forbids that):
 * `scripts/gen-kernels.ts` writes them into the `generated/` files from the rule tables
 * (`pnpm gen:kernels`), each with a lookup table keyed by {@link dtypeKey}. A dtype combination
 * no op produces runs a generic copy (correct, just polymorphic); an expression with no
 * generated kernel at all throws, saying to regenerate.
 * @module
 */
import type { DType } from '../dtype.ts'
import { GraphgradError } from '../errors.ts'

/** @internal A lookup key naming the operation and the dtypes a kernel copy is specialised for. */
export function dtypeKey(name: string, a: DType, b?: DType, c?: DType, d?: DType): string {
  return name + ':' + a + (b === undefined ? '' : ',' + b) + (c === undefined ? '' : ',' + c) + (d === undefined ? '' : ',' + d)
}

/**
 * @internal The generic copy of the `family` kernel for `name` (an expression or an operation),
 * for a dtype combination without a specialised copy; throws when `name` has no generated
 * kernel at all (a rule table was edited and the kernels not regenerated).
 */
export function genericKernel<F>(generic: ReadonlyMap<string, F>, family: string, name: string): F {
  const kernel = generic.get(name)
  if (kernel === undefined) {
    throw new GraphgradError(
      `no generated ${family} kernel for '${name}': the kernels are generated from the rule tables; run \`pnpm gen:kernels\` after editing one`,
    )
  }
  return kernel
}
