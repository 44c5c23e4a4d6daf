import {
  COUNTERS,
  type Counters,
  OTLP_ATTRIBUTES,
  OTLP_COUNTER_NAMES,
  OTLP_SERVICE_NAME,
  OTLP_UNITS,
} from '../model.js';

// The few OTLP messages the export needs, written by hand (opentelemetry/proto/collector/metrics/v1 and the
// messages it nests): an ExportMetricsServiceRequest of cumulative monotonic Sums with integer datapoints, and
// the answer read back (ExportMetricsServiceResponse). A general protobuf library or
// @opentelemetry/otlp-transformer would bring its SDK data model and serializer into the collector's bundle for
// eight metrics of one shape; the tests decode what this writes with the official OpenTelemetry schema.

/** One skill's counters as read at `readAt`, in the window that started at `windowStart` (aligned, epoch ms). */
export interface SkillRead {
  readonly ccId: number;
  readonly vdn: number;
  readonly skillId: number;
  readonly windowStart: number;
  readonly readAt: number;
  readonly counters: Counters;
}

/** What a request carries of a read: every counter, or only those the endpoint does not know yet (otlp-sink.ts). */
export type SkillPoints = Omit<SkillRead, 'counters'> & { readonly counters: Partial<Counters> };

// Wire types and field tags ((field << 3) | wire type) of the messages written.
const LEN = 2;
const tag = (field: number, wireType: number) => (field << 3) | wireType;
/** NumberDataPoint: attributes = 7, start_time_unix_nano = 2, time_unix_nano = 3 (fixed64), as_int = 6 (sfixed64). */
const POINT = { attributes: tag(7, LEN), start: tag(2, 1), time: tag(3, 1), asInt: tag(6, 1) } as const;
/** Fixed part of a datapoint: three 64-bit fields with their one-byte tags. */
const POINT_FIXED_BYTES = 3 * 9;
/** Sum: data_points = 1; aggregation_temporality = 2 (CUMULATIVE = 2); is_monotonic = 3 (true). */
const SUM_FLAGS = Buffer.from([tag(2, 0), 2, tag(3, 0), 1]);
const FIELD_1 = tag(1, LEN);
const FIELD_2 = tag(2, LEN);
const FIELD_3 = tag(3, LEN);
const FIELD_7 = tag(7, LEN);

function varintBytes(value: number): number {
  let bytes = 1;
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 0x80)) bytes += 1;
  return bytes;
}

/** A length-delimited field's bytes: its tag, its length's varint and the content. */
const fieldBytes = (contentBytes: number) => 1 + varintBytes(contentBytes) + contentBytes;

/** Writes into one buffer of the exact size computed beforehand. */
class Writer {
  readonly buffer: Buffer;
  offset = 0;
  constructor(size: number) {
    this.buffer = Buffer.allocUnsafe(size);
  }
  byte(value: number): void {
    this.buffer[this.offset++] = value;
  }
  varint(value: number): void {
    let rest = value;
    while (rest >= 0x80) {
      this.byte((rest % 0x80) | 0x80);
      rest = Math.floor(rest / 0x80);
    }
    this.byte(rest);
  }
  /** A tag and the length of the content that follows. */
  open(fieldTag: number, contentBytes: number): void {
    this.byte(fieldTag);
    this.varint(contentBytes);
  }
  bytes(content: Uint8Array): void {
    this.buffer.set(content, this.offset);
    this.offset += content.length;
  }
  fixed64(fieldTag: number, value: bigint): void {
    this.byte(fieldTag);
    this.buffer.writeBigUInt64LE(value, this.offset);
    this.offset += 8;
  }
  sfixed64(fieldTag: number, value: bigint): void {
    this.byte(fieldTag);
    this.buffer.writeBigInt64LE(value, this.offset);
    this.offset += 8;
  }
}

/** A KeyValue with a string AnyValue, as a field of its parent: `{key: key, value: {string_value: value}}`. */
function keyValueField(fieldTag: number, key: string, value: string): Buffer {
  const keyBytes = Buffer.from(key, 'utf8');
  const valueBytes = Buffer.from(value, 'utf8');
  const anyValue = fieldBytes(valueBytes.length);
  const keyValue = fieldBytes(keyBytes.length) + fieldBytes(anyValue);
  const writer = new Writer(fieldBytes(keyValue));
  writer.open(fieldTag, keyValue);
  writer.open(FIELD_1, keyBytes.length);
  writer.bytes(keyBytes);
  writer.open(FIELD_2, anyValue);
  writer.open(FIELD_1, valueBytes.length);
  writer.bytes(valueBytes);
  return writer.buffer;
}

/** A string field of its parent. */
function stringField(fieldTag: number, text: string): Buffer {
  const content = Buffer.from(text, 'utf8');
  const writer = new Writer(fieldBytes(content.length));
  writer.open(fieldTag, content.length);
  writer.bytes(content);
  return writer.buffer;
}

/** Resource `{attributes: [service.name]}` and InstrumentationScope `{name}`, as fields 1 of their parents. */
const RESOURCE = (() => {
  const attribute = keyValueField(FIELD_1, 'service.name', OTLP_SERVICE_NAME);
  return Buffer.concat([Buffer.from([FIELD_1, attribute.length]), attribute]);
})();
const SCOPE = (() => {
  const name = stringField(FIELD_1, OTLP_SERVICE_NAME);
  return Buffer.concat([Buffer.from([FIELD_1, name.length]), name]);
})();

/** Each counter's Metric fields before its Sum: name (1) and unit (3). */
const METRIC_HEADERS = COUNTERS.map((counter) =>
  Buffer.concat([
    stringField(FIELD_1, OTLP_COUNTER_NAMES[counter.name]),
    stringField(FIELD_3, OTLP_UNITS[counter.unit]),
  ]),
);

/** Bytes a request needs around its datapoints (resource, scope, eight metric headers and the length prefixes). */
export const REQUEST_ENVELOPE_MAX_BYTES =
  RESOURCE.length +
  SCOPE.length +
  METRIC_HEADERS.reduce((sum, header) => sum + header.length + SUM_FLAGS.length + 2 * 6, 0) +
  4 * 6;

/**
 * Writes ExportMetricsServiceRequests. The three attributes of a skill are the same in every datapoint it sends,
 * so their bytes are written once per skill and kept (a container serves the same skills run after run).
 */
export class OtlpMetricsEncoder {
  readonly #attributes = new Map<string, Buffer>();

  #attributesOf(read: SkillPoints): Buffer {
    const key = `${read.ccId}/${read.vdn}/${read.skillId}`;
    let bytes = this.#attributes.get(key);
    if (bytes === undefined) {
      bytes = Buffer.concat([
        keyValueField(POINT.attributes, OTLP_ATTRIBUTES.ccId, String(read.ccId)),
        keyValueField(POINT.attributes, OTLP_ATTRIBUTES.vdn, String(read.vdn)),
        keyValueField(POINT.attributes, OTLP_ATTRIBUTES.skillId, String(read.skillId)),
      ]);
      this.#attributes.set(key, bytes);
    }
    return bytes;
  }

  /** Bytes one read adds to a request: its datapoint of each counter it carries, as fields of their Sums. */
  readBytes(read: SkillPoints): number {
    return pointsOf(read) * fieldBytes(this.#attributesOf(read).length + POINT_FIXED_BYTES);
  }

  /**
   * One request carrying the counters of every read: a Metric per counter that any read carries, its datapoints
   * (one per read carrying it) in read order.
   */
  encode(reads: readonly SkillPoints[]): Buffer {
    const attributes = reads.map((read) => this.#attributesOf(read));
    const pointBytes = attributes.map((bytes) => fieldBytes(bytes.length + POINT_FIXED_BYTES));
    const metrics = COUNTERS.map((counter, index) => {
      const carried = reads.flatMap((read, readIndex) =>
        read.counters[counter.name] === undefined ? [] : [readIndex],
      );
      const sumBytes =
        carried.reduce((sum, readIndex) => sum + (pointBytes[readIndex] as number), 0) + SUM_FLAGS.length;
      const header = METRIC_HEADERS[index] as Buffer;
      return { counter, header, carried, sumBytes, bytes: header.length + fieldBytes(sumBytes) };
    }).filter((metric) => metric.carried.length > 0);
    const scopeMetricsBytes =
      SCOPE.length + metrics.reduce((sum, metric) => sum + fieldBytes(metric.bytes), 0);
    const resourceMetricsBytes = RESOURCE.length + fieldBytes(scopeMetricsBytes);

    const writer = new Writer(fieldBytes(resourceMetricsBytes));
    writer.open(FIELD_1, resourceMetricsBytes);
    writer.bytes(RESOURCE);
    writer.open(FIELD_2, scopeMetricsBytes);
    writer.bytes(SCOPE);
    const times = reads.map((read) => ({
      start: BigInt(read.windowStart) * 1_000_000n,
      time: BigInt(read.readAt) * 1_000_000n,
    }));
    for (const { counter, header, carried, sumBytes, bytes } of metrics) {
      writer.open(FIELD_2, bytes);
      writer.bytes(header);
      writer.open(FIELD_7, sumBytes);
      for (const readIndex of carried) {
        const read = reads[readIndex] as SkillPoints;
        const pointAttributes = attributes[readIndex] as Buffer;
        const { start, time } = times[readIndex] as { start: bigint; time: bigint };
        writer.open(FIELD_1, pointAttributes.length + POINT_FIXED_BYTES);
        writer.bytes(pointAttributes);
        writer.fixed64(POINT.start, start);
        writer.fixed64(POINT.time, time);
        writer.sfixed64(POINT.asInt, BigInt(read.counters[counter.name] as number));
      }
      writer.bytes(SUM_FLAGS);
    }
    return writer.buffer;
  }
}

/** Datapoints a read carries: one per counter present. */
export function pointsOf(read: SkillPoints): number {
  let points = 0;
  for (const { name } of COUNTERS) if (read.counters[name] !== undefined) points += 1;
  return points;
}

// --- reading the answers ------------------------------------------------------------------------------------

/** The fields of a message: number → the last value of that field (varints as numbers, others as bytes). */
function readFields(bytes: Uint8Array): Map<number, number | Uint8Array> {
  const fields = new Map<number, number | Uint8Array>();
  let offset = 0;
  const varint = (): number => {
    let value = 0;
    let scale = 1;
    for (let shift = 0; shift < 70; shift += 7) {
      if (offset >= bytes.length) throw new Error('truncated varint');
      const byte = bytes[offset++] as number;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 0x80;
    }
    throw new Error('varint too long');
  };
  const skip = (length: number): Uint8Array => {
    if (offset + length > bytes.length) throw new Error('truncated field');
    const content = bytes.subarray(offset, offset + length);
    offset += length;
    return content;
  };
  while (offset < bytes.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    switch (key % 8) {
      case 0:
        fields.set(field, varint());
        break;
      case 1:
        fields.set(field, skip(8));
        break;
      case 2:
        fields.set(field, skip(varint()));
        break;
      case 5:
        fields.set(field, skip(4));
        break;
      default:
        throw new Error(`unsupported wire type ${key % 8}`);
    }
  }
  return fields;
}

const textOf = (value: number | Uint8Array | undefined): string =>
  value instanceof Uint8Array ? new TextDecoder().decode(value) : '';

export interface PartialSuccess {
  readonly rejectedDataPoints: number;
  readonly errorMessage: string;
}

/**
 * The partial_success of an ExportMetricsServiceResponse; undefined when the receiver accepted everything (an
 * empty body, or no such field). Throws on bytes that are not a response.
 */
export function decodeExportResponse(bytes: Uint8Array): PartialSuccess | undefined {
  const partial = readFields(bytes).get(1);
  if (!(partial instanceof Uint8Array)) return undefined;
  const fields = readFields(partial);
  const rejected = fields.get(1);
  const rejectedDataPoints = typeof rejected === 'number' ? rejected : 0;
  const errorMessage = textOf(fields.get(2));
  if (rejectedDataPoints === 0 && errorMessage === '') return undefined;
  return { rejectedDataPoints, errorMessage };
}
