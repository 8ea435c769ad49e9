// An inference answer as typed columns, built the way the modelled Wallaroo version writes it. The same
// columns become the JSON and the Arrow answer, so both formats always carry the same data and types.
import {
  Bool, type DataType, type Field, type FixedSizeList, Float32, Float64, Int64, List, Struct, type Table, Type, Utf8,
} from 'apache-arrow';
import type { ModelKind } from '../models.ts';
import type { VersionProfile } from '../versions/index.ts';
import { notNull, nullable, outputList } from '../versions/shared.ts';

/** One answer column: its Arrow field and one plain value per row (objects for structs). */
export interface Column {
  field: Field;
  values: unknown[];
}

/** What the engine knows about one call, whatever the input format. */
export interface AnswerInput {
  profile: VersionProfile;
  model: ModelKind;
  /** Input rows as plain values, in order. */
  rows: Record<string, unknown>[];
  /** The input's Arrow schema when the input was Arrow; JSON inputs get types from their values. */
  inputTable: Table | null;
  outputs: Record<string, unknown[]>[];
  time: number;
  elapsedNs: [number, number];
  lastModel: string;
  pipelineVersion: string;
  partition: string;
  format: 'json' | 'arrow';
}

const OUTPUT_TYPES: Record<ModelKind, Record<string, DataType>> = {
  ccfraud: { dense_1: new Float32() },
  summary: { sum: new Float64(), count: new Int64() },
};

/** Lists nested deeper than this are echoed as text (bounds the recursion on hostile input). */
const MAX_LIST_DEPTH = 32;

/** The type a JSON input column gets: numbers are float64, lists of them lists, anything else text. */
function typeOfJsonValue(value: unknown, depth = 0): DataType {
  if (typeof value === 'number') return new Float64();
  if (typeof value === 'boolean') return new Bool();
  if (Array.isArray(value) && depth < MAX_LIST_DEPTH) {
    const first = value.find((item) => item !== null && item !== undefined);
    return new List(nullable('item', first === undefined ? new Float64() : typeOfJsonValue(first, depth + 1)));
  }
  return new Utf8();
}

/** Wallaroo echoes fixed-size list inputs as plain lists (the recorded `in.tensor` is list<float>). */
function echoType(type: DataType): DataType {
  if (type.typeId === Type.FixedSizeList) return new List((type as FixedSizeList).children[0]!);
  return type;
}

function inputFields(input: AnswerInput): Field[] {
  if (input.inputTable) return input.inputTable.schema.fields.map((field) => notNull(field.name, echoType(field.type)));
  const names: string[] = [];
  for (const row of input.rows) for (const name of Object.keys(row)) if (!names.includes(name)) names.push(name);
  return names.map((name) => {
    const values = input.rows.map((row) => row[name]);
    const sample = values.find((value) => value !== null && value !== undefined);
    const type = typeOfJsonValue(sample);
    return values.some((value) => value === null || value === undefined) ? nullable(name, type) : notNull(name, type);
  });
}

/** A JSON input's value as its column's Arrow type (text for what has no better one). */
function echoValue(value: unknown, type: DataType): unknown {
  if (value === null || value === undefined) return null;
  if (type.typeId === Type.Utf8 && typeof value !== 'string') return JSON.stringify(value);
  if (type.typeId === Type.List && Array.isArray(value)) {
    const child = (type as List).children[0]!.type;
    return value.map((item) => echoValue(item, child));
  }
  if (type.typeId === Type.Float && typeof value !== 'number') return Number(value);
  return value;
}

export function answerColumns(input: AnswerInput): Column[] {
  const { profile, rows } = input;
  const arrow = profile.arrow();
  const inFields = inputFields(input);
  const outTypes = OUTPUT_TYPES[input.model];
  const outFields = Object.entries(outTypes).map(([name, type]) => notNull(name, outputList(type)));
  const columns: Column[] = [
    { field: arrow.time, values: rows.map(() => input.time) },
    {
      field: notNull('in', new Struct(inFields)),
      // JSON answers echo the input as it came; Arrow needs one type per column.
      values: rows.map((row) => Object.fromEntries(inFields.map((field) => [field.name, input.format === 'arrow' ? echoValue(row[field.name], field.type) : row[field.name] ?? null]))),
    },
    {
      field: notNull('out', new Struct(outFields)),
      values: input.outputs.map((out) => Object.fromEntries(outFields.map((field) => [field.name, out[field.name] ?? []]))),
    },
    { field: arrow.check, values: rows.map(() => (profile.checkColumn === 'anomaly' ? { count: 0 } : [])) },
  ];
  const metadataNames = input.format === 'arrow' ? profile.arrowMetadataFields : profile.metadataFields;
  const metadata: Record<string, unknown> = {
    last_model: input.lastModel,
    pipeline_version: profile.pipelineVersionInAnswer ? input.pipelineVersion : '',
    elapsed: input.elapsedNs,
    dropped: [],
    partition: input.partition,
  };
  const metadataValue = Object.fromEntries(metadataNames.map((name) => [name, metadata[name]]));
  columns.push({ field: input.format === 'arrow' ? arrow.metadata : jsonMetadataField(profile), values: rows.map(() => metadataValue) });
  return columns;
}

/** JSON answers may carry more metadata than the recorded Arrow ones; the extra fields are typed as 2024.2's. */
function jsonMetadataField(profile: VersionProfile): Field {
  const types: Record<string, DataType> = {
    last_model: new Utf8(), pipeline_version: new Utf8(), elapsed: new List(notNull('steps', new Int64())),
    dropped: new List(nullable('item', new Utf8())), partition: new Utf8(),
  };
  return notNull('metadata', new Struct(profile.metadataFields.map((name) => notNull(name, types[name]!))));
}
