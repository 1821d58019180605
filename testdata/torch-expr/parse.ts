/**
 * The front half of the PyTorch expression evaluator: a tokenizer and a precedence-climbing
 * parser of the Python expression subset the reference fixtures write, building an AST once.
 */

/** A name, function, argument or form the evaluator does not handle, or a malformed expression. */
export class TorchExprError extends Error {
  override name = 'TorchExprError'
}

// ---------------------------------------------------------------- tokenizer

/** A token of the expression language; `at` is its offset in the source. */
export type Token =
  | { kind: 'num'; value: number; at: number }
  | { kind: 'name'; value: string; at: number }
  | { kind: 'str'; value: string; at: number }
  | { kind: 'op'; value: string; at: number }
  | { kind: 'end'; value: ''; at: number }

const OPERATORS = ['...', '**', '//', '<=', '>=', '==', '!=', '+', '-', '*', '/', '@', '%', '(', ')', '[', ']', ',', ':', '.', '=', '<', '>']

/** Splits a Python expression into numbers, names, strings and operators. */
export function tokenize(src: string): Token[] {
  const out: Token[] = []
  let i = 0
  while (i < src.length) {
    const c = src[i]
    if (/\s/.test(c)) { i++; continue }
    const num = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(src.slice(i))
    if (num && !(c === '.' && src.startsWith('...', i))) {
      out.push({ kind: 'num', value: Number(num[0]), at: i })
      i += num[0].length
      continue
    }
    const name = /^[A-Za-z_][A-Za-z_0-9]*/.exec(src.slice(i))
    if (name) {
      out.push({ kind: 'name', value: name[0], at: i })
      i += name[0].length
      continue
    }
    if (c === '"' || c === "'") {
      const end = src.indexOf(c, i + 1)
      if (end < 0) throw new TorchExprError(`unterminated string at ${i} in '${src}'`)
      out.push({ kind: 'str', value: src.slice(i + 1, end), at: i })
      i = end + 1
      continue
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i))
    if (op === undefined) throw new TorchExprError(`unexpected character '${c}' at ${i} in '${src}'`)
    out.push({ kind: 'op', value: op, at: i })
    i += op.length
  }
  out.push({ kind: 'end', value: '', at: src.length })
  return out
}

// ---------------------------------------------------------------- parser

/** A parsed expression. */
export type Node =
  | { type: 'num'; value: number }
  | { type: 'str'; value: string }
  | { type: 'name'; id: string }
  | { type: 'unary'; op: string; arg: Node }
  | { type: 'binary'; op: string; left: Node; right: Node }
  | { type: 'call'; fn: Node; args: Node[]; kwargs: [string, Node][] }
  | { type: 'attr'; obj: Node; name: string }
  | { type: 'index'; obj: Node; items: Node[] }
  | { type: 'tuple' | 'list'; items: Node[] }
  | { type: 'slice'; start: Node | null; stop: Node | null; step: Node | null }
  | { type: 'ellipsis' }

// Python's binary precedence (higher binds tighter); `**` is handled apart (right-associative,
// tighter than a unary minus on its left, looser than one on its right).
const BINARY: Record<string, number> = {
  '<': 1, '<=': 1, '>': 1, '>=': 1, '==': 1, '!=': 1,
  '+': 2, '-': 2,
  '*': 3, '/': 3, '@': 3, '//': 3, '%': 3,
}

/** Parses one Python expression into an AST. */
export function parse(src: string): Node {
  const toks = tokenize(src)
  let p = 0
  const peek = (): Token => toks[p]
  const isOp = (v: string): boolean => toks[p].kind === 'op' && toks[p].value === v
  const fail = (msg: string): never => { throw new TorchExprError(`${msg} at ${toks[p].at} in '${src}'`) }
  const expect = (v: string): void => { if (!isOp(v)) fail(`expected '${v}'`); p++ }

  // Precedence climbing over BINARY: parse operands at a level tighter than minLevel.
  function expr(minLevel = 1): Node {
    let left = unary()
    for (;;) {
      const t = peek()
      const level = t.kind === 'op' ? BINARY[t.value] : undefined
      if (level === undefined || level < minLevel) return left
      p++
      const right = expr(level + 1)
      if (level === 1 && left.type === 'binary' && BINARY[left.op] === 1) fail('chained comparisons are not supported')
      left = { type: 'binary', op: String(t.value), left, right }
    }
  }
  function unary(): Node {
    if (isOp('-') || isOp('+')) {
      const op = String(peek().value)
      p++
      return { type: 'unary', op, arg: unary() }
    }
    return power()
  }
  function power(): Node {
    const base = postfix(atom())
    if (!isOp('**')) return base
    p++
    return { type: 'binary', op: '**', left: base, right: unary() }
  }
  function postfix(node: Node): Node {
    for (;;) {
      if (isOp('.')) {
        p++
        const t = peek()
        if (t.kind !== 'name') fail('expected an attribute name')
        p++
        node = { type: 'attr', obj: node, name: t.value as string }
      } else if (isOp('(')) {
        p++
        const args: Node[] = []
        const kwargs: [string, Node][] = []
        while (!isOp(')')) {
          const t = peek()
          if (t.kind === 'name' && toks[p + 1].kind === 'op' && toks[p + 1].value === '=') {
            p += 2
            kwargs.push([t.value, expr()])
          } else {
            if (kwargs.length > 0) fail('positional argument after keyword argument')
            args.push(expr())
          }
          if (!isOp(')')) expect(',')
        }
        p++
        node = { type: 'call', fn: node, args, kwargs }
      } else if (isOp('[')) {
        p++
        const items: Node[] = []
        while (!isOp(']')) {
          items.push(subscriptItem())
          if (!isOp(']')) expect(',')
        }
        p++
        node = { type: 'index', obj: node, items }
      } else {
        return node
      }
    }
  }
  function subscriptItem(): Node {
    if (isOp('...')) { p++; return { type: 'ellipsis' } }
    const bound = (): Node | null => (isOp(':') || isOp(',') || isOp(']') ? null : expr())
    const start = bound()
    if (!isOp(':')) {
      if (start === null) fail('empty subscript')
      return start as Node
    }
    p++
    const stop = bound()
    let step: Node | null = null
    if (isOp(':')) { p++; step = bound() }
    return { type: 'slice', start, stop, step }
  }
  function atom(): Node {
    const t = peek()
    p++
    if (t.kind === 'num') return { type: 'num', value: t.value }
    if (t.kind === 'str') return { type: 'str', value: t.value }
    if (t.kind === 'name') return { type: 'name', id: t.value }
    if (t.kind === 'op' && (t.value === '(' || t.value === '[')) {
      const close = t.value === '(' ? ')' : ']'
      const items: Node[] = []
      let comma = false
      while (!isOp(close)) {
        items.push(expr())
        if (isOp(close)) break
        expect(',')
        comma = true
      }
      p++
      if (close === ']') return { type: 'list', items }
      if (items.length === 1 && !comma) return items[0]
      return { type: 'tuple', items }
    }
    p--
    return fail(t.kind === 'end' ? 'unexpected end of expression' : `unexpected '${t.value}'`)
  }

  const root = expr()
  if (peek().kind !== 'end') fail(`unexpected '${peek().value}'`)
  return root
}
