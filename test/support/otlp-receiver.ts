/**
 * A local OTLP/HTTP metrics receiver on 127.0.0.1 that reads what it is sent with the official OpenTelemetry
 * protobuf schema (the protobufjs module @opentelemetry/otlp-transformer 0.215 generated from the
 * opentelemetry-proto files), never with the product's encoder, and answers as told: success, a partial success
 * (written with the same official schema), an HTTP error with `Retry-After`, or no answer at all.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import officialRoot from '@opentelemetry/otlp-transformer/build/src/generated/root.js';
import { afterAll, afterEach, beforeAll } from 'vitest';

const gunzipAsync = promisify(gunzip);

interface ProtobufType {
  decode(bytes: Uint8Array): unknown;
  toObject(message: unknown, options: Record<string, unknown>): Record<string, unknown>;
  fromObject(object: Record<string, unknown>): unknown;
  encode(message: unknown): { finish(): Uint8Array };
}

const schema = (
  officialRoot as unknown as {
    opentelemetry: {
      proto: {
        collector: {
          metrics: {
            v1: { ExportMetricsServiceRequest: ProtobufType; ExportMetricsServiceResponse: ProtobufType };
          };
        };
      };
    };
  }
).opentelemetry.proto.collector.metrics.v1;

/** One datapoint as the official schema reads it. */
export interface ReceivedPoint {
  readonly name: string;
  readonly unit: string;
  readonly resource: Readonly<Record<string, string>>;
  readonly scope: string;
  readonly attributes: Readonly<Record<string, string>>;
  /** Epoch ms (the nanoseconds divided exactly: they are whole milliseconds). */
  readonly start: number;
  readonly time: number;
  /** `as_int`, as a decimal string so that no precision is lost on the way. */
  readonly value: string;
  readonly valueKind: 'asInt' | 'asDouble' | 'none';
  readonly temporality: number;
  readonly monotonic: boolean;
}

interface ReceivedRequest {
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The body as it came over the wire. */
  readonly body: Buffer;
  /** The protobuf payload, gunzipped. */
  readonly payload: Buffer;
  readonly points: readonly ReceivedPoint[];
  readonly at: number;
}

type OtlpAnswer =
  | { readonly kind: 'ok' }
  | { readonly kind: 'partial'; readonly rejected: number; readonly message: string }
  | { readonly kind: 'status'; readonly status: number; readonly retryAfter?: string; readonly text?: string }
  /** Never answers: the request hangs until the client gives up. */
  | { readonly kind: 'hang' };

export interface OtlpReceiver {
  /** http://127.0.0.1:<port>/v1/metrics */
  readonly url: string;
  readonly requests: readonly ReceivedRequest[];
  /** Datapoints of the requests answered with success (a partial success included). */
  readonly accepted: readonly ReceivedPoint[];
  /** Answers for the next requests, in order; then `ok`. */
  answer(...answers: OtlpAnswer[]): void;
  /** Forgets the requests and the answers not given yet. */
  reset(): void;
  close(): Promise<void>;
}

type AnyValue = { stringValue?: string };
type KeyValue = { key: string; value?: AnyValue };
const attributesOf = (list: readonly KeyValue[] | undefined): Record<string, string> =>
  Object.fromEntries((list ?? []).map((kv) => [kv.key, kv.value?.stringValue ?? '']));
const msOf = (nanos: string): number => {
  const value = BigInt(nanos);
  if (value % 1_000_000n !== 0n) throw new Error(`${nanos} ns is not a whole millisecond`);
  return Number(value / 1_000_000n);
};

/** Every datapoint of an ExportMetricsServiceRequest, read with the official schema. */
export function decodeOfficially(payload: Uint8Array): ReceivedPoint[] {
  const request = schema.ExportMetricsServiceRequest.toObject(
    schema.ExportMetricsServiceRequest.decode(payload),
    {
      longs: String,
      enums: Number,
      defaults: true,
      arrays: true,
      oneofs: true,
    },
  ) as {
    resourceMetrics: {
      resource?: { attributes: KeyValue[] };
      scopeMetrics: {
        scope?: { name: string };
        metrics: {
          name: string;
          unit: string;
          data?: string;
          sum?: {
            aggregationTemporality: number;
            isMonotonic: boolean;
            dataPoints: {
              attributes: KeyValue[];
              startTimeUnixNano: string;
              timeUnixNano: string;
              asInt?: string;
              asDouble?: number;
              value?: 'asInt' | 'asDouble';
            }[];
          };
        }[];
      }[];
    }[];
  };
  return request.resourceMetrics.flatMap((rm) =>
    rm.scopeMetrics.flatMap((sm) =>
      sm.metrics.flatMap((metric) =>
        (metric.sum?.dataPoints ?? []).map((point) => ({
          name: metric.name,
          unit: metric.unit,
          resource: attributesOf(rm.resource?.attributes),
          scope: sm.scope?.name ?? '',
          attributes: attributesOf(point.attributes),
          start: msOf(point.startTimeUnixNano),
          time: msOf(point.timeUnixNano),
          value: point.value === 'asInt' ? String(point.asInt) : String(point.asDouble),
          valueKind: point.value ?? 'none',
          temporality: metric.sum?.aggregationTemporality ?? 0,
          monotonic: metric.sum?.isMonotonic ?? false,
        })),
      ),
    ),
  );
}

/** An ExportMetricsServiceResponse carrying a partial success, written with the official schema. */
export function partialSuccessBody(rejected: number, message: string): Uint8Array {
  const response = schema.ExportMetricsServiceResponse.fromObject({
    partialSuccess: { rejectedDataPoints: rejected, errorMessage: message },
  });
  return schema.ExportMetricsServiceResponse.encode(response).finish();
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const requests: ReceivedRequest[] = [];
  const accepted: ReceivedPoint[] = [];
  const queue: OtlpAnswer[] = [];
  const hanging = new Set<ServerResponse>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const payload = req.headers['content-encoding'] === 'gzip' ? await gunzipAsync(body) : body;
    const points = decodeOfficially(payload);
    requests.push({
      path: req.url ?? '',
      headers: Object.fromEntries(
        Object.entries(req.headers).map(([name, value]) => [
          name,
          Array.isArray(value) ? value.join(',') : (value ?? ''),
        ]),
      ),
      body,
      payload,
      points,
      at: Date.now(),
    });
    const answer = queue.shift() ?? { kind: 'ok' };
    switch (answer.kind) {
      case 'hang':
        hanging.add(res);
        return;
      case 'status':
        res.writeHead(answer.status, {
          'content-type': 'text/plain',
          ...(answer.retryAfter === undefined ? {} : { 'retry-after': answer.retryAfter }),
        });
        res.end(answer.text ?? '');
        return;
      case 'partial':
        accepted.push(...points);
        res.writeHead(200, { 'content-type': 'application/x-protobuf' });
        res.end(partialSuccessBody(answer.rejected, answer.message));
        return;
      case 'ok':
        accepted.push(...points);
        res.writeHead(200, { 'content-type': 'application/x-protobuf' });
        res.end();
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(`not an OTLP metrics request: ${String(error)}`);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/metrics`,
    requests,
    accepted,
    answer: (...answers) => queue.push(...answers),
    reset: () => {
      requests.length = 0;
      accepted.length = 0;
      queue.length = 0;
    },
    close: async () => {
      for (const res of hanging) res.destroy();
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}

/** The receiver of a test file: started before its tests, emptied after each test, closed after them all. */
export function receiverOfTestFile(): () => OtlpReceiver {
  let receiver: OtlpReceiver | undefined;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
  });
  afterAll(async () => {
    await receiver?.close();
  });
  afterEach(() => {
    receiver?.reset();
  });
  return () => {
    if (receiver === undefined) throw new Error('the OTLP receiver is not started yet');
    return receiver;
  };
}
