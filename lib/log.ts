import { cleanText } from './text.js';

/**
 * Structured JSON log lines (one object per line, which CloudWatch Logs Insights queries as fields). Written here
 * rather than taken from Powertools Logger: that costs 21 KB of bundle for features this product does not use,
 * which alone takes the collector past its cold-start size budget. Nothing secret is ever passed to it.
 */
export interface Log {
  debug(message: string, ...fields: Record<string, unknown>[]): void;
  info(message: string, ...fields: Record<string, unknown>[]): void;
  warn(message: string, ...fields: Record<string, unknown>[]): void;
  error(message: string, ...fields: Record<string, unknown>[]): void;
}

const LEVELS = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40, SILENT: 100 } as const;
export type LogLevel = keyof typeof LEVELS;
/** What LOG_LEVEL may say. */
export const LOG_LEVELS = Object.keys(LEVELS) as readonly LogLevel[];

export interface LoggerOptions {
  /** Where lines go; Lambda ships stdout to CloudWatch Logs. */
  readonly write?: (line: string) => void;
  readonly now?: () => number;
}

/** A logger writing lines at `level` and above (default INFO). */
export function createLogger(level: LogLevel = 'INFO', options: LoggerOptions = {}): Log {
  const threshold = LEVELS[level];
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const now = options.now ?? Date.now;
  const at =
    (level: Exclude<LogLevel, 'SILENT'>) =>
    (message: string, ...fields: Record<string, unknown>[]): void => {
      if (LEVELS[level] < threshold) return;
      // The fixed keys come last so that no field can overwrite them.
      const record = Object.assign({}, ...fields, {
        level,
        message,
        timestamp: new Date(now()).toISOString(),
        service: 'cms-skill-metrics',
      });
      write(serialize(record));
    };
  return { debug: at('DEBUG'), info: at('INFO'), warn: at('WARN'), error: at('ERROR') };
}

/** A line is always written: a field that cannot be serialised (a cycle, a BigInt) is replaced, not thrown. */
function serialize(record: Record<string, unknown>): string {
  try {
    return JSON.stringify(record, (_key, value: unknown) =>
      typeof value === 'bigint' ? value.toString() : value,
    );
  } catch {
    const { level, message, timestamp, service } = record;
    return JSON.stringify({ level, message, timestamp, service, fieldsDropped: 'not serialisable' });
  }
}

/** Room for the longest message the product writes itself; anything longer carries someone else's text. */
const MAX_ERROR_MESSAGE_CHARS = 1_000;
const MAX_ERROR_NAME_CHARS = 100;

/**
 * Fields to log for any error: its type, code and message — never its cause chain or request objects. Messages
 * may quote what CMS or a caller sent, so each field is cleaned of control characters and bounded.
 */
export function describeError(error: unknown): { type: string; code?: string; message: string } {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      type: cleanText(error.name, MAX_ERROR_NAME_CHARS),
      ...(typeof code === 'string' ? { code: cleanText(code, MAX_ERROR_NAME_CHARS) } : {}),
      message: cleanText(error.message, MAX_ERROR_MESSAGE_CHARS),
    };
  }
  return { type: typeof error, message: cleanText(String(error), MAX_ERROR_MESSAGE_CHARS) };
}
