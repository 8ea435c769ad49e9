// Real computed model outputs for the simulator, so tests can check numbers, not just shapes.
// `ccfraud`: a fixed 29-input logistic regression over the `tensor` column (Wallaroo's credit-card fraud demo
// input), answering `out.dense_1 = [p]`. `summary`: for any numeric columns, `out.sum` and `out.count`.

export type ModelKind = 'ccfraud' | 'summary';

export const CCFRAUD_WEIGHTS: readonly number[] = Array.from({ length: 29 }, (_, i) => Math.round(Math.sin(i + 1) * 1000) / 4000);
export const CCFRAUD_BIAS = -2.5;

export function ccfraudScore(tensor: ArrayLike<number>): number {
  let z = CCFRAUD_BIAS;
  for (let i = 0; i < 29; i++) z += CCFRAUD_WEIGHTS[i]! * Number(tensor[i]);
  // Rounded to float32, as the real model's dense_1 output is.
  return Math.fround(1 / (1 + Math.exp(-z)));
}

export class ModelInputError extends Error {}

function numbersIn(value: unknown, into: number[]): void {
  if (typeof value === 'number') into.push(value);
  else if (typeof value === 'bigint') into.push(Number(value)); // int64 columns read from Arrow
  else if (Array.isArray(value) || ArrayBuffer.isView(value)) for (const v of Array.from(value as ArrayLike<unknown>)) numbersIn(v, into);
  else if (value !== null && typeof value === 'object') for (const v of Object.values(value)) numbersIn(v, into);
}

/** Runs the model on one input row (plain JS values). */
export function runModel(kind: ModelKind, row: Record<string, unknown>): Record<string, unknown[]> {
  if (kind === 'ccfraud') {
    // The tutorials name the input `tensor` (with a tensor_fields config) or `dense_input` (the ONNX name).
    const tensor = (row.tensor ?? row.dense_input) as unknown;
    const values = Array.isArray(tensor) || ArrayBuffer.isView(tensor) ? Array.from(tensor as ArrayLike<unknown>) : null;
    if (values?.length !== 29 || values.some((v) => typeof v !== 'number')) {
      // The engine's own words (recorded on 2024.2), whichever row it was.
      throw new ModelInputError('Error getting tensor from inference data');
    }
    return { dense_1: [ccfraudScore(values as number[])] };
  }
  const numbers: number[] = [];
  numbersIn(row, numbers);
  return { sum: [numbers.reduce((a, b) => a + b, 0)], count: [numbers.length] };
}
