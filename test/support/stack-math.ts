/**
 * Evaluates the CloudWatch metric-math expressions the stack ships, at one timestamp: numbers, metric ids,
 * + - * /, comparisons (1 or 0), AND/OR, parentheses, IF(condition, value[, otherwise]) and MAX([..]).
 * `undefined` is a missing datapoint, as CloudWatch produces for a division by zero or an IF without
 * `otherwise` whose condition is false.
 */

type Value = number | undefined;

const TOKEN = /\s*(\d+(?:\.\d+)?|[A-Za-z_][A-Za-z0-9_]*|>=|<=|==|!=|&&|\|\||[-+*/()<>,[\]])/y;

/** The tokens of a metric-math expression: numbers, names, operators, parentheses, brackets and commas. */
export function tokenize(expression: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < expression.length) {
    if (/^\s*$/.test(expression.slice(TOKEN.lastIndex))) break;
    const match = TOKEN.exec(expression);
    if (!match?.[1]) throw new Error(`cannot read "${expression.slice(TOKEN.lastIndex)}"`);
    tokens.push(match[1]);
  }
  return tokens;
}

/** Metric math's comparison operators. */
export const COMPARISONS: Readonly<Record<string, (a: number, b: number) => boolean>> = {
  '>=': (a, b) => a >= b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '<': (a, b) => a < b,
  '==': (a, b) => a === b,
  '!=': (a, b) => a !== b,
};

/** Reading a token list front to back, for the expression parsers. */
export class TokenCursor {
  private position = 0;

  constructor(private readonly tokens: readonly string[]) {}

  protected peek(): string | undefined {
    return this.tokens[this.position];
  }

  protected take(expected?: string): string {
    const token = this.tokens[this.position];
    if (token === undefined || (expected !== undefined && token !== expected)) {
      throw new Error(`expected ${expected ?? 'a token'}, got ${token ?? 'the end'}`);
    }
    this.position += 1;
    return token;
  }

  /** Throws unless every token was read. */
  protected finish<T>(value: T): T {
    if (this.position !== this.tokens.length) throw new Error(`unexpected "${this.peek()}"`);
    return value;
  }
}

class Parser extends TokenCursor {
  constructor(
    tokens: readonly string[],
    private readonly values: Readonly<Record<string, number | undefined>>,
  ) {
    super(tokens);
  }

  parse(): Value {
    return this.finish(this.logical());
  }

  private logical(): Value {
    let left = this.comparison();
    for (let op = this.peek(); op === 'AND' || op === 'OR' || op === '&&' || op === '||'; op = this.peek()) {
      this.take();
      const right = this.comparison();
      const and = op === 'AND' || op === '&&';
      // Comparisons treat a missing datapoint as 0 (using-metric-math, "Comparison and logical operators").
      left = Number(and ? Boolean(left) && Boolean(right) : Boolean(left) || Boolean(right));
    }
    return left;
  }

  private comparison(): Value {
    const left = this.additive();
    const op = this.peek();
    const compare = op === undefined ? undefined : COMPARISONS[op];
    if (!compare) return left;
    this.take();
    const right = this.additive();
    return Number(compare(left ?? 0, right ?? 0));
  }

  private additive(): Value {
    let left = this.multiplicative();
    for (let op = this.peek(); op === '+' || op === '-'; op = this.peek()) {
      this.take();
      const right = this.multiplicative();
      left = left === undefined || right === undefined ? undefined : op === '+' ? left + right : left - right;
    }
    return left;
  }

  private multiplicative(): Value {
    let left = this.unary();
    for (let op = this.peek(); op === '*' || op === '/'; op = this.peek()) {
      this.take();
      const right = this.unary();
      if (left === undefined || right === undefined || (op === '/' && right === 0)) left = undefined;
      else left = op === '*' ? left * right : left / right;
    }
    return left;
  }

  private unary(): Value {
    if (this.peek() === '-') {
      this.take();
      const value = this.unary();
      return value === undefined ? undefined : -value;
    }
    return this.primary();
  }

  private primary(): Value {
    const token = this.take();
    if (token === '(') {
      const value = this.logical();
      this.take(')');
      return value;
    }
    if (/^\d/.test(token)) return Number(token);
    if (token === 'IF') return this.ifCall();
    if (token === 'MAX') return this.maxCall();
    if (/^[a-z]/.test(token)) {
      if (!(token in this.values)) throw new Error(`no metric with id ${token}`);
      return this.values[token];
    }
    throw new Error(`unsupported "${token}"`);
  }

  private ifCall(): Value {
    this.take('(');
    const condition = this.logical();
    this.take(',');
    const whenTrue = this.logical();
    let whenFalse: Value;
    if (this.peek() === ',') {
      this.take();
      whenFalse = this.logical();
    }
    this.take(')');
    // A missing condition datapoint drops the output datapoint.
    if (condition === undefined) return undefined;
    return condition !== 0 ? whenTrue : whenFalse;
  }

  private maxCall(): Value {
    this.take('(');
    this.take('[');
    const items: Value[] = [this.logical()];
    while (this.peek() === ',') {
      this.take();
      items.push(this.logical());
    }
    this.take(']');
    this.take(')');
    const present = items.filter((item): item is number => item !== undefined);
    return present.length === 0 ? undefined : Math.max(...present);
  }
}

export function evaluateMetricMath(
  expression: string,
  values: Readonly<Record<string, number | undefined>>,
): number | undefined {
  return new Parser(tokenize(expression), values).parse();
}
