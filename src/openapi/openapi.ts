// OpenAPI 3.1.1 for one pipeline's gateway route: the gateway-side equivalent of Wallaroo's
// `pipeline.generate_api_spec()`. Both body formats, the rows' JSON Schema from `inputSchema` where set, the
// answer's Wallaroo row shape and the gateway's error body.
import { type DataType, Type } from 'apache-arrow';
import { stringify as toYaml } from 'yaml';
import type { PipelineConfig } from '../config/types.ts';
import { parseArrowTypeSpec } from '../convert/arrow-types.ts';
import { MEDIA_TYPES } from '../convert/negotiate.ts';
import { ERROR_CATALOG } from '../errors.ts';
import { REQUEST_ID } from '../http/headers.ts';

import { GATEWAY_VERSION } from '../http/version.ts';

export { GATEWAY_VERSION };

type JsonSchema = Record<string, unknown>;

/** JSON Schema for a pandas-records value of an Arrow type. */
export function jsonSchemaForArrowType(type: DataType): JsonSchema {
  switch (type.typeId) {
    case Type.Float:
      return { type: 'number' };
    case Type.Int:
      return { type: 'integer' };
    case Type.Bool:
      return { type: 'boolean' };
    case Type.Utf8:
    case Type.LargeUtf8:
      return { type: 'string' };
    case Type.Timestamp:
      return { type: 'integer', description: 'epoch milliseconds' };
    case Type.List:
      return { type: 'array', items: jsonSchemaForArrowType(type.children[0]!.type) };
    case Type.FixedSizeList: {
      const size = (type as unknown as { listSize: number }).listSize;
      return { type: 'array', items: jsonSchemaForArrowType(type.children[0]!.type), minItems: size, maxItems: size };
    }
    case Type.Struct:
      return {
        type: 'object',
        properties: Object.fromEntries(type.children.map((field) => [field.name, jsonSchemaForArrowType(field.type)])),
      };
    default:
      return {};
  }
}

/** A value of an Arrow type, for a generated example row: zeros, and lists of their fixed size (else one item). */
export function exampleForArrowType(type: DataType): unknown {
  switch (type.typeId) {
    case Type.Float:
    case Type.Int:
    case Type.Timestamp:
      return 0;
    case Type.Bool:
      return false;
    case Type.Utf8:
    case Type.LargeUtf8:
      return '';
    case Type.List:
      return [exampleForArrowType(type.children[0]!.type)];
    case Type.FixedSizeList: {
      const size = (type as unknown as { listSize: number }).listSize;
      return Array.from({ length: size }, () => exampleForArrowType(type.children[0]!.type));
    }
    case Type.Struct:
      return Object.fromEntries(type.children.map((field) => [field.name, exampleForArrowType(field.type)]));
    default:
      return null;
  }
}

/** The body "Try it out" starts with: the configured example, else one row built from inputSchema, else none. */
export function requestExample(pipeline: PipelineConfig): Array<Record<string, unknown>> | undefined {
  if (pipeline.example) return pipeline.example;
  const columns = Object.entries(pipeline.inputSchema ?? {});
  if (columns.length === 0) return undefined;
  return [Object.fromEntries(columns.map(([name, spec]) => [name, exampleForArrowType(parseArrowTypeSpec(spec))]))];
}

export const ERROR_BODY_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['statusCode', 'code', 'error', 'message'],
  properties: {
    statusCode: { type: 'integer' },
    code: { type: 'string', enum: Object.keys(ERROR_CATALOG) },
    error: { type: 'string' },
    message: { type: 'string' },
  },
};

const RESULT_ROW_SCHEMA: JsonSchema = {
  type: 'object',
  description: "One answer row, as Wallaroo writes it (the query's dataset[] parameters may select fewer fields).",
  properties: {
    time: { type: 'integer', description: 'epoch milliseconds' },
    in: { type: 'object', description: 'the inputs, by column' },
    out: { type: 'object', description: 'the model outputs, by name, each a list' },
    check_failures: { type: 'array' },
    metadata: {
      type: 'object',
      properties: {
        last_model: { type: 'string' },
        pipeline_version: { type: 'string' },
        elapsed: { type: 'array', items: { type: 'integer' }, description: 'nanoseconds per step' },
        dropped: { type: 'array' },
        partition: { type: 'string' },
      },
    },
  },
};

const ARROW_CONTENT = (format: 'file' | 'stream') => ({
  schema: { type: 'string', contentMediaType: MEDIA_TYPES[format === 'file' ? 'arrow-file' : 'arrow-stream'], description: `Apache Arrow IPC ${format} format` },
});

const ERROR_STATUSES: Record<string, string> = {
  '400': 'Malformed body, or a value that does not fit the input schema (or Wallaroo refused the input)',
  '404': 'Pipeline not configured',
  '406': 'Accept names no supported format',
  '408': 'The body arrived too slowly',
  '413': 'Body larger than the limit',
  '415': 'Unsupported Content-Type',
  '429': 'Rate limited; see Retry-After and RateLimit-* headers',
  '502': 'Wallaroo unreachable, its answer unreadable, or its URL untrusted',
  '503': 'Token unavailable, overloaded, circuit open or draining; see Retry-After',
  '504': 'Wallaroo did not answer in time',
};

export function pipelineOpenApi(pipeline: PipelineConfig): Record<string, unknown> {
  const columns = Object.entries(pipeline.inputSchema ?? {});
  const rowSchema: JsonSchema = columns.length
    ? {
        type: 'object',
        required: columns.map(([name]) => name),
        properties: Object.fromEntries(columns.map(([name, spec]) => [name, { ...jsonSchemaForArrowType(parseArrowTypeSpec(spec)), 'x-arrow-type': spec }])),
      }
    : { type: 'object', description: 'One input row: column name -> value (no inputSchema configured, so types are inferred).' };
  const example = requestExample(pipeline);
  const records = { schema: { type: 'array', items: { $ref: '#/components/schemas/InputRow' } }, ...(example ? { example } : {}) };
  const results = { schema: { type: 'array', items: { $ref: '#/components/schemas/ResultRow' } } };
  const errorContent = { 'application/json': { schema: { $ref: '#/components/schemas/GatewayError' } } };
  return {
    openapi: '3.1.1',
    info: {
      title: `wallaroo-gateway: pipeline ${pipeline.name}`,
      version: GATEWAY_VERSION,
      description:
        `Inference on Wallaroo pipeline "${pipeline.pipeline}" through the gateway, which holds the credentials. ` +
        'Send pandas-records JSON or Apache Arrow IPC; choose the answer format with Accept (default: pandas-records JSON, as Wallaroo answers).',
    },
    paths: {
      [`/pipelines/${pipeline.name}/infer`]: {
        post: {
          operationId: `infer_${pipeline.name.replace(/[^A-Za-z0-9_]/g, '_')}`,
          summary: `Run inference on ${pipeline.name}`,
          parameters: [
            { name: 'dataset[]', in: 'query', required: false, schema: { type: 'array', items: { type: 'string' } }, description: 'Answer fields to return, passed to Wallaroo as is (e.g. out, time, metadata).' },
            { name: 'dataset.separator', in: 'query', required: false, schema: { type: 'string' }, description: 'Flatten nested answer fields with this separator.' },
            { name: 'x-request-id', in: 'header', required: false, schema: { type: 'string', pattern: REQUEST_ID.source }, description: 'Kept when well formed, else generated; returned on the answer.' },
          ],
          requestBody: {
            required: true,
            content: {
              [MEDIA_TYPES.json]: records,
              'application/json': records,
              [MEDIA_TYPES['arrow-file']]: ARROW_CONTENT('file'),
              [MEDIA_TYPES['arrow-stream']]: ARROW_CONTENT('stream'),
            },
          },
          responses: {
            '200': {
              description: 'Predictions, one row per input row',
              headers: { 'x-request-id': { schema: { type: 'string' } } },
              content: {
                [MEDIA_TYPES.json]: results,
                [MEDIA_TYPES['arrow-file']]: ARROW_CONTENT('file'),
                [MEDIA_TYPES['arrow-stream']]: ARROW_CONTENT('stream'),
              },
            },
            ...Object.fromEntries(Object.entries(ERROR_STATUSES).map(([status, description]) => [status, { description, content: errorContent }])),
          },
        },
      },
    },
    components: {
      schemas: { InputRow: rowSchema, ResultRow: RESULT_ROW_SCHEMA, GatewayError: ERROR_BODY_SCHEMA },
    },
  };
}

export function pipelineOpenApiYaml(pipeline: PipelineConfig): string {
  return toYaml(pipelineOpenApi(pipeline), { lineWidth: 0 });
}
