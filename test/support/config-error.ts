import { ConfigError } from '../../lib/errors.js';

/** The ConfigError `load` throws; fails the test when it throws nothing or something else. */
export function configError(load: () => unknown): ConfigError {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}
