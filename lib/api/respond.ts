import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

/**
 * Every answer is JSON and about live counters that change every poll: no client or proxy may store one, so a
 * stale wallboard can never be served from an intermediate cache.
 */
const COMMON_HEADERS = { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' } as const;

export function jsonResponse(
  statusCode: number,
  body: string,
  headers: Readonly<Record<string, string>> = {},
): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { ...COMMON_HEADERS, ...headers }, body, isBase64Encoded: false };
}
