import { ConfigError } from '../errors.js';
import { LOG_LEVELS } from '../log.js';
import { quoted } from '../text.js';
import { parseWholeNumber } from '../validation.js';

// The rule engine every function's configuration is read with: a rule per variable, read once at cold start by
// the function's own loader (lib/lambda/, lib/cli/). Every problem is a ConfigError naming the variable, so a
// broken deployment fails its first invocation with a message that says what to fix.

/** The environment as Lambda hands it over; only the loaders read it. */
export type Env = Readonly<Record<string, string | undefined>>;

/** How one variable is read: from its raw value to the setting, or a plain Error saying what is wrong. */
export type Rule<T> = (raw: string | undefined) => T;
export type Rules = Readonly<Record<string, Rule<unknown>>>;
export type Values<R extends Rules> = { readonly [K in keyof R]: ReturnType<R[K]> };

/**
 * A variable's rule: unset or blank gives `fallback` ("is required" when there is none); otherwise `parse` reads
 * the trimmed text, throwing a plain Error whose message reads after the variable's name.
 */
export function variable<T>(parse: (text: string) => T): Rule<T>;
export function variable<T, const F>(parse: (text: string) => T, fallback: F): Rule<T | F>;
export function variable(parse: (text: string) => unknown, ...fallback: unknown[]): Rule<unknown> {
  return (raw) => {
    const text = raw?.trim();
    if (text) return parse(text);
    if (fallback.length === 0) throw new Error('is required');
    return fallback[0];
  };
}

/** A whole number from `min` to `max`; required unless a fallback is given. */
export function wholeNumber(min: number, max: number): Rule<number>;
export function wholeNumber<const F extends number | undefined>(
  min: number,
  max: number,
  fallback: F,
): Rule<number | F>;
export function wholeNumber(min: number, max: number, ...fallback: unknown[]): Rule<unknown> {
  const parse = (text: string) => parseWholeNumber(text, { min, max });
  return fallback.length === 0 ? variable(parse) : variable(parse, fallback[0]);
}

function choiceOf<T extends string>(choices: readonly T[], text: string): T {
  if (!(choices as readonly string[]).includes(text))
    throw new Error(`must be one of ${choices.join(', ')}, got ${quoted(text)}`);
  return text as T;
}

/** One of `choices`, `fallback` when unset (undefined: unset is told apart from any choice). */
export const choice = <T extends string, const F extends T | undefined>(choices: readonly T[], fallback: F) =>
  variable((text) => choiceOf(choices, text), fallback);

/**
 * METRIC_NAMESPACE: where the collector publishes, and where the wallboard reads the collector's health. The
 * stack reads its stage parameter with the same rule, which also keeps `${` out of the dashboard's Fn::Sub.
 */
export function parseNamespace(namespace: string): string {
  if (namespace.startsWith('AWS/') || !/^[\w.\-/#:]{1,255}$/.test(namespace))
    throw new Error(`${quoted(namespace)} is not a valid custom namespace`);
  return namespace;
}

/** The variables several functions read the same way. */
export const SHARED_RULES = {
  LOG_LEVEL: variable((text) => choiceOf(LOG_LEVELS, text.toUpperCase()), 'INFO'),
  METRIC_NAMESPACE: variable(parseNamespace, 'HuaweiCEC/SkillQueues'),
};

/**
 * One setting by its rule, under `name`: a variable, or a stage parameter the stack checks with the functions'
 * rules. A problem is a ConfigError naming it.
 */
export function readSetting<T>(values: Env, name: string, rule: Rule<T>): T {
  try {
    return rule(values[name]);
  } catch (error) {
    // The thresholds' grammar already names its variable.
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(name, (error as Error).message);
  }
}

/** Each variable by its rule, in order; the first problem is thrown. */
export function read<R extends Rules>(env: Env, rules: R): Values<R> {
  const values: Record<string, unknown> = {};
  for (const [name, rule] of Object.entries(rules)) values[name] = readSetting(env, name, rule);
  return values as Values<R>;
}

/** Configuration objects are shared by every invocation of a container: frozen, so that none can alter them. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    if (Array.isArray(value) || Object.getPrototypeOf(value) === Object.prototype)
      for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}
