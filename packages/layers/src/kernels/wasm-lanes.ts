/**
 * float32 arithmetic for the WebAssembly cell kernels, written once for two lane widths: four
 * f32 lanes of a v128 (the body of a row) or one f32 (its tail when H is not a multiple of 4).
 * A cell's step is written against {@link Lanes} and emitted once per width, so the two can
 * never disagree.
 *
 * Expressions are closures that push their value ({@link Expr}); statements emit at once.
 * Min and max are WebAssembly's (not the pseudo `pmin`/`pmax`): they return NaN when either
 * operand is NaN, so the activations' clamp lets a NaN through, as `approx.ts` does.
 * @module
 */
import type { FunctionBuilder, Local } from '@graphgrad/core/internal'
import { TANH_CLAMP, TANH_DENOMINATOR, TANH_NUMERATOR } from './approx.ts'

/** Emits code that pushes one value (a v128 of four f32, or one f32). */
export type Expr = () => void

type Binary = 'add' | 'sub' | 'mul' | 'div' | 'min' | 'max'

const VECTOR_OPS = { add: 'f32x4.add', sub: 'f32x4.sub', mul: 'f32x4.mul', div: 'f32x4.div', min: 'f32x4.min', max: 'f32x4.max' } as const
const SCALAR_OPS = { add: 'f32.add', sub: 'f32.sub', mul: 'f32.mul', div: 'f32.div', min: 'f32.min', max: 'f32.max' } as const

/** Lane-width-generic float32 arithmetic over one function being built. */
export class Lanes {
  /** Bytes one value covers: 16 (four lanes) or 4. */
  readonly bytes: 16 | 4
  private readonly type: 'v128' | 'f32'
  private readonly clamped: Local
  private readonly square: Local

  constructor(
    private readonly f: FunctionBuilder,
    readonly vector: boolean,
  ) {
    this.bytes = vector ? 16 : 4
    this.type = vector ? 'v128' : 'f32'
    this.clamped = this.local()
    this.square = this.local()
  }

  /** A new local of this width. */
  local(): Local {
    return this.f.local(this.type)
  }

  /** The value of a local. */
  get(l: Local): Expr {
    return () => this.f.get(l)
  }

  /** A constant (rounded to float32) in every lane. */
  k(value: number): Expr {
    return () => (this.vector ? this.f.f32x4Const(value) : this.f.float('f32', value))
  }

  /** The value at the byte address `addr` pushes. */
  load(addr: Expr): Expr {
    return () => {
      addr()
      this.f.load(this.type)
    }
  }

  /** Stores `value` at the byte address `addr` pushes. */
  store(addr: Expr, value: Expr): void {
    addr()
    value()
    this.f.store(this.type)
  }

  /** `l = value`. */
  set(l: Local, value: Expr): void {
    value()
    this.f.set(l)
  }

  /** `a + b`. */
  add(a: Expr, b: Expr): Expr {
    return this.binary('add', a, b)
  }

  /** `a - b`. */
  sub(a: Expr, b: Expr): Expr {
    return this.binary('sub', a, b)
  }

  /** `a * b`, and left to right for more factors (as `a * b * c` in TypeScript). */
  mul(a: Expr, ...rest: Expr[]): Expr {
    return rest.reduce((acc, b) => this.binary('mul', acc, b), a)
  }

  /** `a / b`. */
  div(a: Expr, b: Expr): Expr {
    return this.binary('div', a, b)
  }

  /** `max(a, b)`, NaN when either is. */
  max(a: Expr, b: Expr): Expr {
    return this.binary('max', a, b)
  }

  /** `1 - a`. */
  oneMinus(a: Expr): Expr {
    return this.sub(this.k(1), a)
  }

  /** `value` where `test > 0`, else +0 (also where `test` is NaN). */
  wherePositive(test: Expr, value: Expr): Expr {
    return () => {
      if (this.vector) {
        value()
        test()
        this.f.f32x4Const(0).op('f32x4.gt').op('v128.and')
      } else {
        value()
        this.f.float('f32', 0)
        test()
        this.f.float('f32', 0).op('f32.gt').op('select')
      }
    }
  }

  /** `into = tanh(x)`, the rational approximation of `approx.ts` evaluated in float32. */
  tanh(into: Local, x: Expr): void {
    const c = this.get(this.clamped)
    const x2 = this.get(this.square)
    this.set(this.clamped, this.binary('min', this.max(x, this.k(-TANH_CLAMP)), this.k(TANH_CLAMP)))
    this.set(this.square, this.mul(c, c))
    this.set(into, this.div(this.mul(c, this.horner(TANH_NUMERATOR, x2)), this.horner(TANH_DENOMINATOR, x2)))
  }

  /** `into = sigmoid(x) = 0.5 + 0.5 * tanh(0.5 * x)`, as `approx.ts`. */
  sigmoid(into: Local, x: Expr): void {
    this.tanh(into, this.mul(this.k(0.5), x))
    this.set(into, this.add(this.k(0.5), this.mul(this.k(0.5), this.get(into))))
  }

  /** `c[0] + y * (c[1] + y * (... + y * c[n-1]))`, innermost first as `approx.ts` writes it. */
  private horner(coefficients: readonly number[], y: Expr): Expr {
    let acc = this.k(coefficients[coefficients.length - 1])
    for (let i = coefficients.length - 2; i >= 0; i--) acc = this.add(this.k(coefficients[i]), this.mul(y, acc))
    return acc
  }

  private binary(op: Binary, a: Expr, b: Expr): Expr {
    return () => {
      a()
      b()
      this.f.op(this.vector ? VECTOR_OPS[op] : SCALAR_OPS[op])
    }
  }
}
