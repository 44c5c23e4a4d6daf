import { Logger } from '@aws-lambda-powertools/logger';

/** The logging the product uses: a message and structured fields. Powertools' Logger fits; tests hand in recorders. */
export interface Log {
  debug(message: string, ...fields: Record<string, unknown>[]): void;
  info(message: string, ...fields: Record<string, unknown>[]): void;
  warn(message: string, ...fields: Record<string, unknown>[]): void;
  error(message: string, ...fields: Record<string, unknown>[]): void;
}

/** Structured JSON lines (level from LOG_LEVEL); nothing secret is ever passed to it. */
export function createLogger(): Logger {
  return new Logger({ serviceName: 'cms-skill-metrics' });
}

/** Fields to log for any error: its type, code and message — never its cause chain or request objects. */
export function describeError(error: unknown): { type: string; code?: string; message: string } {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { type: error.name, ...(typeof code === 'string' ? { code } : {}), message: error.message };
  }
  return { type: typeof error, message: String(error) };
}
