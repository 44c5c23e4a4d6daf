/**
 * Evaluates the CloudWatch metric-math expressions of the stack's "today" widgets over whole time series, as
 * CloudWatch does (using-metric-math, "Metric math syntax and functions"): numbers, metric and expression ids,
 * + - * /, comparisons, parentheses, IF(condition, value[, otherwise]), FLOOR, EPOCH (the timestamp of every
 * point, in seconds, non-sparse), MAX of one series (a scalar) and RUNNING_SUM. `undefined` is a missing
 * datapoint. Between two series a point missing from one of them counts as 0; missing from both, it stays
 * missing; a division by zero drops the point.
 */

import { COMPARISONS, TokenCursor, tokenize } from './stack-math.js';

type Point = number | undefined;
type Value = { readonly scalar: number } | { readonly series: readonly Point[] };

const OPERATORS: Readonly<Record<string, (a: number, b: number) => number | undefined>> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => (b === 0 ? undefined : a / b),
  ...Object.fromEntries(
    Object.entries(COMPARISONS).map(([op, compare]) => [op, (a: number, b: number) => Number(compare(a, b))]),
  ),
};

export interface SeriesContext {
  /** Epoch seconds of every point of the query's range. */
  readonly timestamps: readonly number[];
  /** Metric and already evaluated expression series, by id. */
  readonly series: Readonly<Record<string, readonly Point[]>>;
}

class Parser extends TokenCursor {
  constructor(
    tokens: readonly string[],
    private readonly context: SeriesContext,
  ) {
    super(tokens);
  }

  parse(): Value {
    return this.finish(this.comparison());
  }

  private binary(next: () => Value, operators: readonly string[]): Value {
    let left = next();
    for (let op = this.peek(); op !== undefined && operators.includes(op); ) {
      this.take();
      left = this.combine(left, next(), OPERATORS[op] as (a: number, b: number) => number | undefined);
      op = this.peek();
    }
    return left;
  }

  private comparison(): Value {
    return this.binary(() => this.additive(), ['>=', '<=', '>', '<', '==', '!=']);
  }

  private additive(): Value {
    return this.binary(() => this.multiplicative(), ['+', '-']);
  }

  private multiplicative(): Value {
    return this.binary(() => this.primary(), ['*', '/']);
  }

  private combine(a: Value, b: Value, op: (a: number, b: number) => number | undefined): Value {
    if ('scalar' in a && 'scalar' in b) {
      const value = op(a.scalar, b.scalar);
      if (value === undefined) throw new Error('scalar division by zero');
      return { scalar: value };
    }
    return {
      series: this.context.timestamps.map((_, index) => {
        const left = 'scalar' in a ? a.scalar : a.series[index];
        const right = 'scalar' in b ? b.scalar : b.series[index];
        if (left === undefined && right === undefined) return undefined;
        // A scalar against a missing point leaves it missing; two series fill each other's gaps with 0.
        if (('scalar' in a && right === undefined) || ('scalar' in b && left === undefined)) return undefined;
        return op(left ?? 0, right ?? 0);
      }),
    };
  }

  private arguments(): Value[] {
    this.take('(');
    const values = [this.comparison()];
    while (this.peek() === ',') {
      this.take();
      values.push(this.comparison());
    }
    this.take(')');
    return values;
  }

  private seriesOf(value: Value | undefined, name: string): readonly Point[] {
    if (value === undefined || !('series' in value)) throw new Error(`${name} needs a time series`);
    return value.series;
  }

  private primary(): Value {
    const token = this.take();
    if (token === '(') {
      const value = this.comparison();
      this.take(')');
      return value;
    }
    if (token === '-') return this.combine({ scalar: 0 }, this.primary(), (a, b) => a - b);
    if (/^\d/.test(token)) return { scalar: Number(token) };
    if (/^[a-z]/.test(token)) {
      const series = this.context.series[token];
      if (series === undefined) throw new Error(`no series with id ${token}`);
      return { series };
    }
    const args = this.arguments();
    switch (token) {
      case 'EPOCH':
        this.seriesOf(args[0], token);
        return { series: [...this.context.timestamps] };
      case 'FLOOR':
        return {
          series: this.seriesOf(args[0], token).map((point) =>
            point === undefined ? undefined : Math.floor(point),
          ),
        };
      case 'MAX': {
        const present = this.seriesOf(args[0], token).filter((point): point is number => point !== undefined);
        if (present.length === 0) throw new Error('MAX of an empty series');
        return { scalar: Math.max(...present) };
      }
      case 'RUNNING_SUM': {
        let sum = 0;
        return {
          series: this.seriesOf(args[0], token).map((point) => {
            if (point === undefined) return undefined;
            sum += point;
            return sum;
          }),
        };
      }
      case 'IF': {
        const [condition, whenTrue, whenFalse] = args;
        const at = (value: Value | undefined, index: number): Point =>
          value === undefined ? undefined : 'scalar' in value ? value.scalar : value.series[index];
        return {
          series: this.seriesOf(condition, token).map((point, index) => {
            if (point === undefined) return undefined;
            return point !== 0 ? at(whenTrue, index) : at(whenFalse, index);
          }),
        };
      }
      default:
        throw new Error(`unsupported function ${token}`);
    }
  }
}

/** The series an expression yields over the context's timestamps. */
export function evaluateSeriesMath(expression: string, context: SeriesContext): Point[] {
  const value = new Parser(tokenize(expression), context).parse();
  if ('scalar' in value) throw new Error('the final result of an expression must be a time series');
  return [...value.series];
}
