// The `dataset` query parameters of Wallaroo's inference endpoint: `dataset[]` picks fields (default `*`),
// `dataset.exclude[]` drops them, both also as dotted paths (`metadata.elapsed`); `dataset.separator` (sent
// by the SDK: `dataset[]=*&dataset.exclude[]=metadata&dataset.separator=.`) flattens nested fields into
// `in.tensor`-style columns, as `dataset.flatten=true` does where the 2025 spec documents it.
import { Field, Struct, Type } from 'apache-arrow';
import type { VersionProfile } from '../versions/index.ts';
import type { Column } from './columns.ts';

export interface DatasetRequest {
  include: string[] | null;
  exclude: string[];
  /** Flatten nested fields, joining names with this; null keeps them nested. */
  separator: string | null;
}

function list(value: unknown): string[] {
  if (value === undefined) return [];
  return ([] as unknown[]).concat(value).map(String);
}

export function datasetRequest(query: Record<string, unknown>, profile: VersionProfile): DatasetRequest {
  const include = list(query['dataset[]'] ?? query.dataset);
  const separator = typeof query['dataset.separator'] === 'string' ? query['dataset.separator'] : null;
  const flatten = profile.datasetFlatten && query['dataset.flatten'] === 'true';
  return {
    include: include.length === 0 || include.includes('*') ? null : include,
    exclude: list(query['dataset.exclude[]'] ?? query['dataset.exclude']),
    separator: separator ?? (flatten ? '.' : null),
  };
}

/** The column restricted to the children `keep` accepts; null when nothing is left. */
function restrict(column: Column, keep: (child: string) => boolean): Column | null {
  const struct = column.field.type as Struct;
  const children = struct.children.filter((child) => keep(child.name));
  if (children.length === 0) return null;
  const names = children.map((child) => child.name);
  return {
    field: new Field(column.field.name, new Struct(children), column.field.nullable),
    values: column.values.map((value) => (value && typeof value === 'object' ? Object.fromEntries(names.map((name) => [name, (value as Record<string, unknown>)[name]])) : value)),
  };
}

/** Applies `dataset[]` and `dataset.exclude[]`, top-level names and one dotted level below them. */
export function selectColumns(columns: Column[], request: DatasetRequest): Column[] {
  const selected: Column[] = [];
  for (const column of columns) {
    const name = column.field.name;
    const isStruct = column.field.type.typeId === Type.Struct;
    if (request.exclude.includes(name)) continue;
    let kept: Column | null = column;
    if (request.include && !request.include.includes(name)) {
      const children = request.include.filter((path) => path.startsWith(`${name}.`)).map((path) => path.slice(name.length + 1));
      kept = isStruct && children.length > 0 ? restrict(column, (child) => children.includes(child)) : null;
    }
    const excluded = request.exclude.filter((path) => path.startsWith(`${name}.`)).map((path) => path.slice(name.length + 1));
    if (kept && isStruct && excluded.length > 0) kept = restrict(kept, (child) => !excluded.includes(child));
    if (kept) selected.push(kept);
  }
  return selected;
}

/** Struct columns become one column per child (`out.dense_1`), as the version writes flattened answers. */
export function flattenColumns(columns: Column[], separator: string, profile: VersionProfile): Column[] {
  const arrow = profile.arrow();
  const flat: Column[] = [];
  const visit = (column: Column, prefix: string, topLevel: string) => {
    const name = `${prefix}${column.field.name}`;
    if (column.field.type.typeId !== Type.Struct) {
      const notNull = topLevel === 'in' ? arrow.flattenedInputNotNull : !column.field.nullable;
      flat.push({ field: new Field(name, column.field.type, !notNull), values: column.values });
      return;
    }
    for (const child of (column.field.type as Struct).children) {
      const values = column.values.map((value) => (value && typeof value === 'object' ? (value as Record<string, unknown>)[child.name] : null));
      visit({ field: child, values }, `${name}${separator}`, topLevel);
    }
  };
  for (const column of columns) {
    const name = column.field.name;
    if (name === 'time') flat.push({ field: arrow.flattenedTime, values: column.values });
    else if (name === 'check_failures' && arrow.flattenedCheck) {
      const check = arrow.flattenedCheck;
      flat.push({ field: check.field, values: column.values.map(() => check.value) });
    } else if (column.field.type.typeId === Type.Struct) visit(column, '', name);
    else flat.push(column);
  }
  return flat;
}
