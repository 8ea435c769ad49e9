// Native pipeline inference: pandas-records JSON or an Arrow IPC file in; the answer in pandas-records JSON
// unless `Accept` asks for an Arrow file (also for Arrow input: curl's `*/*` gets JSON), shaped as the
// modelled version writes it, filtered and flattened by the `dataset` parameters.
import { randomBytes } from 'node:crypto';
import { type DataType, type FixedSizeList, Precision, type Table, Type } from 'apache-arrow';
import type { FastifyInstance } from 'fastify';
import { readArrow } from '../convert/index.ts';
import { mediaType } from '../http/headers.ts';
import { answerColumns } from './answer/columns.ts';
import { datasetRequest, flattenColumns, selectColumns } from './answer/dataset.ts';
import { answerArrow, answerJson } from './answer/write.ts';
import type { SimulatorControl } from './control.ts';
import { admitInference } from './inference-gate.ts';
import { type ModelKind, ModelInputError, runModel } from './models.ts';
import { sendError } from './platform.ts';

export const INFERENCE_PATH = '/v1/api/pipelines/infer/:deployment/:pipeline';
const ARROW_FILE = 'application/vnd.apache.arrow.file';

/** A list cell as plain arrays, nested lists included (an inner list is a Vector too). */
function plainValue(value: unknown): unknown {
  const vector = value as { toArray?: () => ArrayLike<unknown> } | null;
  return vector && typeof vector.toArray === 'function' ? Array.from(vector.toArray(), plainValue) : value;
}

/** Arrow rows hold Vectors for list cells; the model wants plain arrays. */
function plainRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) out[key] = plainValue(value);
  return out;
}

/** The ccfraud model's Arrow input: 29 float32s, the width included (Wallaroo checks it against the schema). */
function isCcfraudTensorType(type: DataType | undefined): boolean {
  if (!type || type.typeId !== Type.FixedSizeList || (type as FixedSizeList).listSize !== 29) return false;
  const child = type.children[0]?.type as DataType | undefined;
  return child?.typeId === Type.Float && (child as unknown as { precision: number }).precision === Precision.SINGLE;
}

class InputError extends Error {}

function readInput(contentType: string, body: Buffer, model: ModelKind): { rows: Record<string, unknown>[]; table: Table | null } {
  if (contentType === 'application/json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw new InputError('Error parsing the JSON body');
    }
    if (!Array.isArray(parsed) || parsed.some((row) => !row || typeof row !== 'object' || Array.isArray(row))) {
      throw new InputError('expected pandas-records: an array of row objects');
    }
    return { rows: parsed as Record<string, unknown>[], table: null };
  }
  let table: Table;
  try {
    table = readArrow(body);
  } catch (error) {
    throw new InputError(`Error reading the Arrow body: ${(error as Error).message}`);
  }
  if (model === 'ccfraud') {
    const tensor = table.schema.fields.find((f) => f.name === 'tensor' || f.name === 'dense_input');
    if (!isCcfraudTensorType(tensor?.type)) throw new InputError('Error getting tensor from inference data');
  }
  return { rows: table.toArray().map((row) => plainRow(row.toJSON() as Record<string, unknown>)), table };
}

export function registerInference(app: FastifyInstance, control: SimulatorControl): void {
  const partition = `engine-${randomBytes(5).toString('hex')}-${randomBytes(3).toString('hex')}`;
  app.post(INFERENCE_PATH, async (request, reply) => {
    const state = await admitInference(control, request, reply);
    if (!state) return reply;
    if (state.pipeline.model === 'openai') return sendError(control, reply, 'native-call-on-openai-pipeline');
    const model = state.pipeline.model;
    const contentType = mediaType(request.headers['content-type']);
    if (contentType !== 'application/json' && contentType !== ARROW_FILE) {
      return sendError(control, reply, 'unsupported-media-type', `unsupported Content-Type ${contentType || '(none)'}`);
    }
    const started = process.hrtime.bigint();
    let input: ReturnType<typeof readInput>;
    let outputs: Record<string, unknown[]>[];
    let parsed = started;
    try {
      input = readInput(contentType, (request.body as Buffer | undefined) ?? Buffer.alloc(0), model);
      parsed = process.hrtime.bigint();
      control.counts.inferenceRows += input.rows.length;
      control.emit('inference-rows', { pipeline: state.pipeline.name, rows: input.rows.length });
      outputs = input.rows.map((row) => runModel(model, row));
    } catch (error) {
      if (error instanceof InputError || error instanceof ModelInputError) return sendError(control, reply, 'bad-input', error.message);
      throw error;
    }
    if (control.engine) await control.engine.run(input.rows.length);
    if (control.answerRowLimit !== null && input.rows.length > control.answerRowLimit) {
      // A filtering pipeline: fewer answer rows than input rows.
      input = { rows: input.rows.slice(0, control.answerRowLimit), table: input.table?.slice(0, control.answerRowLimit) ?? null };
      outputs = outputs.slice(0, control.answerRowLimit);
    }
    const ran = process.hrtime.bigint();
    const wantsArrow = mediaType(request.headers.accept) === ARROW_FILE;
    const columns = answerColumns({
      profile: control.profile,
      model,
      rows: input.rows,
      inputTable: input.table,
      outputs,
      time: Date.now(),
      elapsedNs: [Number(parsed - started), Number(ran - parsed)],
      lastModel: JSON.stringify({ model_name: model, model_sha: 'bc85ce596945f876256f41515c7501c399fd97ebcb9ab3dd41bf03f8937b4507' }),
      pipelineVersion: state.version,
      partition,
      format: wantsArrow ? 'arrow' : 'json',
    });
    const dataset = datasetRequest(request.query as Record<string, unknown>, control.profile);
    const selected = selectColumns(columns, dataset);
    const shaped = dataset.separator === null ? selected : flattenColumns(selected, dataset.separator, control.profile);
    if (wantsArrow) {
      let bytes: Buffer;
      try {
        bytes = answerArrow(shaped);
      } catch (error) {
        return sendError(control, reply, 'bad-input', `cannot write the answer as Arrow: ${(error as Error).message}`);
      }
      return reply.header('content-type', ARROW_FILE).send(bytes);
    }
    // A Buffer, so the header goes out exactly as Wallaroo writes it (no charset added).
    return reply.header('content-type', 'application/json; format=pandas-records').send(answerJson(shaped));
  });
}
