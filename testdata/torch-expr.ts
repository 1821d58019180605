/**
 * An evaluator of the PyTorch expression subset the reference fixtures write in `config.expr`
 * (`(a - a.mean(dim=-1, keepdim=True)) / torch.sqrt(...)`, `torch.cat([a, b], dim=1)[:, 0:9:2]`),
 * mapped onto graphgrad ops, so the fixture tests need no hand-written table per expression.
 * A tokenizer and a precedence-climbing parser build an AST once (torch-expr/parse.ts);
 * evaluating it against the input tensors runs graphgrad ops (torch-expr/evaluate.ts, with the
 * op tables of math-ops.ts and shape-ops.ts), so it can be differentiated like any function. No
 * `eval`/`new Function`. Unknown names, functions, methods or arguments throw a TorchExprError.
 */
export { type Node, type Token, TorchExprError, parse, tokenize } from './torch-expr/parse.ts'
export { type MaxResult, type NamespaceRef, type Value, describeValue } from './torch-expr/values.ts'
export { type Env, compileTorchExpr, evalTorchExpr } from './torch-expr/evaluate.ts'
