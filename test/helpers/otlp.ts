import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import protobuf from 'protobufjs';

/**
 * A real OTLP/HTTP trace receiver on 127.0.0.1:0: POST /v1/traces with an ExportTraceServiceRequest in
 * protobuf, decoded with protobufjs against the messages of opentelemetry-proto (trace/v1, common/v1,
 * resource/v1, collector/trace/v1: the fields used here, with their field numbers). `hang: true` plays a
 * collector that takes the request and does not answer until `release()`.
 */
const OTLP_PROTO = `
syntax = "proto3";
package otlp;
message AnyValue {
  oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4;
    ArrayValue array_value = 5; KeyValueList kvlist_value = 6; bytes bytes_value = 7; }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4; }
message Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }
message Status { string message = 2; int32 code = 3; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4; string name = 5;
  int32 kind = 6; fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8; repeated KeyValue attributes = 9;
  uint32 dropped_attributes_count = 10; Status status = 15; fixed32 flags = 16;
}
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; string schema_url = 3; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; string schema_url = 3; }
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
`;

const ExportTraceServiceRequest = protobuf.parse(OTLP_PROTO, { keepCase: true }).root.lookupType('otlp.ExportTraceServiceRequest');

export const SPAN_KIND = { internal: 1, server: 2, client: 3 } as const;
export const STATUS_ERROR = 2;

export type AttributeValue = string | number | boolean | null;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  traceState: string;
  name: string;
  kind: number;
  startNanos: bigint;
  endNanos: bigint;
  attributes: Record<string, AttributeValue>;
  status: { code: number; message: string };
  resource: Record<string, AttributeValue>;
  scope: string;
}

interface DecodedValue {
  string_value?: string;
  bool_value?: boolean;
  int_value?: { toString(): string } | number;
  double_value?: number;
}
interface DecodedKeyValue {
  key: string;
  value?: DecodedValue;
}
interface DecodedSpan {
  trace_id: Uint8Array;
  span_id: Uint8Array;
  parent_span_id?: Uint8Array;
  trace_state?: string;
  name: string;
  kind?: number;
  start_time_unix_nano: { toString(): string } | number;
  end_time_unix_nano: { toString(): string } | number;
  attributes?: DecodedKeyValue[];
  status?: { code?: number; message?: string };
}
interface DecodedRequest {
  resource_spans?: Array<{
    resource?: { attributes?: DecodedKeyValue[] };
    scope_spans?: Array<{ scope?: { name?: string }; spans?: DecodedSpan[] }>;
  }>;
}

// Decoded messages carry proto3 defaults on their prototype: only own properties were on the wire.
function attributeValue(value: DecodedValue | undefined): AttributeValue {
  if (!value) return null;
  if (Object.hasOwn(value, 'string_value')) return value.string_value!;
  if (Object.hasOwn(value, 'bool_value')) return value.bool_value!;
  if (Object.hasOwn(value, 'int_value')) return Number(value.int_value!.toString());
  if (Object.hasOwn(value, 'double_value')) return value.double_value!;
  return null;
}

const attributesOf = (list: DecodedKeyValue[] | undefined) => Object.fromEntries((list ?? []).map((kv) => [kv.key, attributeValue(kv.value)]));
const hex = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? []).toString('hex');

/** Spans from one ExportTraceServiceRequest body. */
export function decodeTraces(body: Buffer): ReceivedSpan[] {
  const request = ExportTraceServiceRequest.decode(body) as unknown as DecodedRequest;
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of request.resource_spans ?? []) {
    const resource = attributesOf(resourceSpans.resource?.attributes);
    for (const scopeSpans of resourceSpans.scope_spans ?? []) {
      for (const span of scopeSpans.spans ?? []) {
        spans.push({
          traceId: hex(span.trace_id),
          spanId: hex(span.span_id),
          parentSpanId: hex(span.parent_span_id),
          traceState: span.trace_state ?? '',
          name: span.name,
          kind: span.kind ?? 0,
          startNanos: BigInt(span.start_time_unix_nano.toString()),
          endNanos: BigInt(span.end_time_unix_nano.toString()),
          attributes: attributesOf(span.attributes),
          status: { code: span.status?.code ?? 0, message: span.status?.message ?? '' },
          resource,
          scope: scopeSpans.scope?.name ?? '',
        });
      }
    }
  }
  return spans;
}

export interface OtlpReceiver {
  /** The traces endpoint, for `tracing.endpoint`. */
  url: string;
  spans: ReceivedSpan[];
  /** Export requests received (answered or, when hanging, held). */
  requests: number;
  contentTypes: string[];
  /** Resolves once `predicate` holds for the spans received, or rejects after `timeoutMs`. */
  waitFor(predicate: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  /** Resolves once at least `count` export requests have arrived. */
  waitForRequests(count: number, timeoutMs?: number): Promise<void>;
  /** A hanging receiver answers what it holds, and every request from now on. */
  release(): void;
  close(): Promise<void>;
}

export async function useOtlpReceiver(t: TestContext, options: { hang?: boolean } = {}): Promise<OtlpReceiver> {
  const events = new EventEmitter();
  const held: Array<{ response: ServerResponse; body: Buffer }> = [];
  let hanging = options.hang ?? false;
  const receiver = {
    url: '',
    spans: [] as ReceivedSpan[],
    requests: 0,
    contentTypes: [] as string[],
  };
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      receiver.requests++;
      receiver.contentTypes.push(String(request.headers['content-type']));
      if (request.method !== 'POST' || request.url !== '/v1/traces') {
        response.writeHead(404).end();
        events.emit('change');
        return;
      }
      if (hanging) {
        held.push({ response, body: Buffer.concat(chunks) }); // not answered until release()
        events.emit('change');
        return;
      }
      accept(response, Buffer.concat(chunks));
    });
  });
  const accept = (response: ServerResponse, body: Buffer) => {
    receiver.spans.push(...decodeTraces(body));
    response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    events.emit('change');
  };
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;

  const waitUntil = async (done: () => boolean, timeoutMs: number, what: string): Promise<void> => {
    if (done()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        events.off('change', check);
        reject(new Error(`OTLP receiver: ${what} not seen within ${timeoutMs} ms (${receiver.requests} requests, ${receiver.spans.length} spans)`));
      }, timeoutMs);
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        events.off('change', check);
        resolve();
      };
      events.on('change', check);
    });
  };

  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    for (const { response } of held) response.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  t.after(close);
  return Object.assign(receiver, {
    waitFor: async (predicate: (spans: ReceivedSpan[]) => boolean, timeoutMs = 15_000) => {
      await waitUntil(() => predicate(receiver.spans), timeoutMs, 'the expected spans');
      return receiver.spans;
    },
    waitForRequests: (count: number, timeoutMs = 15_000) => waitUntil(() => receiver.requests >= count, timeoutMs, `${count} export requests`),
    release: () => {
      hanging = false;
      for (const { response, body } of held.splice(0)) accept(response, body);
    },
    close,
  });
}
