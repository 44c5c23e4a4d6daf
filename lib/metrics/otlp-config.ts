import { isIPv4 } from 'node:net';
import { choice, variable } from '../config/rules.js';
import { ConfigError } from '../errors.js';

// The collector's OpenTelemetry settings, OTLP_ENDPOINT, OTLP_AUTH and OTLP_DATAPOINTS, read by the collector's
// configuration at cold start and by the stack generator (its otlpEndpoint, otlpAuth and otlpDatapoints stage
// parameters) with the same rules.

const OTLP_AUTH_MODES = ['sigv4', 'none'] as const;
type OtlpAuth = (typeof OTLP_AUTH_MODES)[number];

/**
 * Which datapoints go out. `window-totals`: of each busy skill's window, its total, once (the closing read, or the
 * window's last read once the window has ended): the history CMS keeps, window by window, at one datapoint per
 * counter and window. `every-read`: each read's new figures too, so that a backend also sees the current window
 * grow (about four times the datapoints, and the bytes CloudWatch bills).
 */
const OTLP_DATAPOINT_MODES = ['window-totals', 'every-read'] as const;
export type OtlpDatapoints = (typeof OTLP_DATAPOINT_MODES)[number];

export interface OtlpSettings {
  /** Where requests go: the full URL, `/v1/metrics` added when the URL had no path. */
  readonly endpoint: string;
  readonly auth: OtlpAuth;
  /** The AWS Region of a CloudWatch endpoint (from its host); undefined for any other endpoint. */
  readonly region: string | undefined;
  readonly datapoints: OtlpDatapoints;
}

/** The OTLP/HTTP path of metrics, which the OpenTelemetry SDKs add to a base URL. */
const METRICS_PATH = '/v1/metrics';

/** CloudWatch's OTLP metrics host, `monitoring.<region>.amazonaws.com` (FIPS and China partitions included). */
const CLOUDWATCH_HOST = /^monitoring(?:-fips)?\.([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(?:\.cn)?$/;

/** Hosts whose traffic never leaves the machine: a collector sidecar, a local Prometheus, the tests' receiver. */
function isLoopback(hostname: string): boolean {
  if (hostname === 'localhost' || hostname === '[::1]') return true;
  return isIPv4(hostname) && hostname.startsWith('127.');
}

/**
 * OTLP_ENDPOINT: an https:// URL, or http:// to a loopback host only, since datapoints and (with SigV4) signed
 * requests must not cross a network in clear. No credentials, query or fragment: the URL is logged.
 */
function parseOtlpEndpoint(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(
      'is not a URL (expected https://host[:port][/path], e.g. https://monitoring.us-east-1.amazonaws.com/v1/metrics)',
    );
  }
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    throw new Error(
      `must be an https:// URL; http:// is only accepted to a loopback host (127.0.0.1, ::1, localhost), not ${url.hostname}`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('must be an https:// URL');
  if (url.username || url.password || url.search || url.hash) {
    throw new Error('must not carry credentials, a query or a fragment');
  }
  if (url.pathname === '/' || url.pathname === '') url.pathname = METRICS_PATH;
  return url.href;
}

/** The export's settings as read (undefined when unset): each under the name its problems are reported under. */
interface OtlpValues {
  readonly endpoint: string | undefined;
  readonly auth: OtlpAuth | undefined;
  readonly datapoints: OtlpDatapoints | undefined;
}

type OtlpNames = { readonly [K in keyof OtlpValues]: string };

const OTLP_VARIABLES: OtlpNames = {
  endpoint: 'OTLP_ENDPOINT',
  auth: 'OTLP_AUTH',
  datapoints: 'OTLP_DATAPOINTS',
};

/**
 * The export's settings, or undefined when OTLP is off. The authentication defaults to SigV4 for CloudWatch's own
 * endpoint and to none elsewhere; the datapoints to each window's totals. `names` are what the problems are
 * reported under: the variables, or the stage parameters.
 */
export function otlpSettings(
  values: OtlpValues,
  names: OtlpNames = OTLP_VARIABLES,
): OtlpSettings | undefined {
  const { endpoint, auth, datapoints } = values;
  if (endpoint === undefined) {
    const stray = (['auth', 'datapoints'] as const).find((key) => values[key] !== undefined);
    if (stray !== undefined) throw new ConfigError(names[stray], `is set but ${names.endpoint} is not`);
    return undefined;
  }
  const region = CLOUDWATCH_HOST.exec(new URL(endpoint).hostname)?.[1];
  return {
    endpoint,
    auth: auth ?? (region === undefined ? 'none' : 'sigv4'),
    region,
    datapoints: datapoints ?? 'window-totals',
  };
}

/** OTLP_ENDPOINT, OTLP_AUTH and OTLP_DATAPOINTS, the collector's own; the stack reads its stage parameters with them. */
export const OTLP_RULES = {
  OTLP_ENDPOINT: variable(parseOtlpEndpoint, undefined),
  OTLP_AUTH: choice(OTLP_AUTH_MODES, undefined),
  OTLP_DATAPOINTS: choice(OTLP_DATAPOINT_MODES, undefined),
};
