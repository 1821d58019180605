/**
 * @graphgrad/gradcheck: checks that gradients are right. {@link gradcheck} compares the
 * analytic gradients of a function (tensor or Immutable.js parameter-map inputs) with
 * central finite differences in float64; {@link gradgradcheck} does the same for second
 * derivatives. The `gradcheck` command runs them over every registered op, layer and loss,
 * or over the checks a user's file exports.
 * @packageDocumentation
 */
export { gradcheck, gradgradcheck, GradcheckError } from './gradcheck.ts'
export type { GradcheckOptions, GradcheckResult, GradcheckFailure, FailureKind } from './gradcheck.ts'
export { formatResult, formatTable, formatError } from './report.ts'
export type { FormatOptions, SummaryRow } from './report.ts'
export { runTarget, coreTargets, layerTargets, caseSeed, DEFAULT_CASES } from './registry-runner.ts'
export type { CheckTarget, RegistryEntry, RunOptions, CaseFailure, TargetResult } from './registry-runner.ts'
export { defineCheck, loadUserChecks, userTarget } from './user-checks.ts'
export type { UserCheck } from './user-checks.ts'
