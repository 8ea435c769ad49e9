// Building blocks the version profiles share: Arrow fields of Wallaroo's answers and its error formats.
import { type DataType, Field, Int64, Int8, List, Struct, TimestampMillisecond, Uint32, Uint64, Utf8 } from 'apache-arrow';
import type { WallarooErrorAnswer } from './profile.ts';

export const notNull = (name: string, type: DataType): Field => new Field(name, type, false);
export const nullable = (name: string, type: DataType): Field => new Field(name, type, true);

/** Lists in answers have a non-null child named `inner` (inputs keep pyarrow's nullable `item`). */
export const outputList = (type: DataType): List => new List(notNull('inner', type));

export const TIME = notNull('time', new Int64());
export const FLATTENED_TIME = nullable('time', new TimestampMillisecond());
export const CHECK_FAILURES = notNull('check_failures', new List(nullable('item', new Utf8())));
export const CHECK_FAILURES_FLATTENED = nullable('check_failures', new Int8());
export const ANOMALY = notNull('anomaly', new Struct([notNull('count', new Uint32())]));

export function metadataField(elapsed: 'uint32' | 'uint64', fields: readonly string[]): Field {
  const all: Record<string, Field> = {
    last_model: notNull('last_model', new Utf8()),
    pipeline_version: notNull('pipeline_version', new Utf8()),
    elapsed: notNull('elapsed', new List(notNull('steps', elapsed === 'uint32' ? new Uint32() : new Uint64()))),
    dropped: notNull('dropped', new List(nullable('item', new Utf8()))),
    partition: notNull('partition', new Utf8()),
  };
  return notNull('metadata', new Struct(fields.map((name) => all[name]!)));
}

const json = (status: number, body: unknown): WallarooErrorAnswer => ({ status, contentType: 'application/json', body: JSON.stringify(body) });

/** The error body the 2025 generated OpenAPI specs document: `{code, status: "error", error, source}`. */
export function specError(status: number, error: string, source: 'engine' | 'platform'): WallarooErrorAnswer {
  return json(status, { code: status, status: 'error', error, source });
}

/** The engine's error body before 2025, as a 2024.2 instance recorded it: `{"status":"Error","error":...}`. */
export function engineError(status: number, error: string): WallarooErrorAnswer {
  return json(status, { status: 'Error', error });
}

/** A plain-text answer from the proxy in front of the engine (Envoy's wording, e.g. "Jwt is missing"). */
export function proxyText(status: number, text: string): WallarooErrorAnswer {
  return { status, contentType: 'text/plain', body: text };
}
