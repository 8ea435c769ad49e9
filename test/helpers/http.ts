import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
  json<T = unknown>(): T;
}

export const JSON_RECORDS = 'application/json; format=pandas-records';
export const ARROW_FILE = 'application/vnd.apache.arrow.file';
export const ARROW_STREAM = 'application/vnd.apache.arrow.stream';

/** One HTTP request to a test server, the whole answer read. */
export async function call(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer | Uint8Array } = {},
): Promise<Answer> {
  const response = await request(url, {
    method: (options.method ?? (options.body === undefined ? 'GET' : 'POST')) as 'GET',
    headers: options.headers,
    body: options.body,
  });
  const body = Buffer.from(await response.body.arrayBuffer());
  const text = body.toString('utf8');
  return { status: response.statusCode, headers: response.headers, body, text, json: <T>() => JSON.parse(text) as T };
}

export function infer(gatewayUrl: string, pipeline: string, body: string | Buffer, headers: Record<string, string> = {}, query = ''): Promise<Answer> {
  return call(`${gatewayUrl}/pipelines/${pipeline}/infer${query}`, {
    method: 'POST',
    headers: { 'content-type': JSON_RECORDS, ...headers },
    body,
  });
}

/** GET /readyz until it answers 200, at most `attempts` times, `intervalMs` apart; returns the last status. */
export async function readyStatus(gatewayUrl: string, attempts: number, intervalMs: number): Promise<number> {
  let status = 0;
  for (let i = 0; i < attempts; i++) {
    status = (await call(`${gatewayUrl}/readyz`)).status;
    if (status === 200) break;
    await sleep(intervalMs);
  }
  return status;
}
