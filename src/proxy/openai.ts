import { PassThrough, type Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PipelineConfig } from '../config/types.ts';
import { parseJson } from '../convert/json-guard.ts';
import { mediaType } from '../http/headers.ts';
import { GatewayError } from '../errors.ts';
import { declaredLength, firstHeader } from '../http/headers.ts';
import { assertWithinLimit, readBody } from './body.ts';
import type { Forwarder } from './forward.ts';
import { callerResponseHeaders } from './headers.ts';
import type { RequestStats } from './upstream.ts';
import { upstreamFailure } from './upstream-errors.ts';

/**
 * OpenAI-compatible passthrough: `<inference URL>/openai/v1/{completions,chat/completions}` with the managed
 * token, discovery, limits, timeouts and 401 replay (always before any byte reached the caller). With
 * `"stream": true` Wallaroo answers Server-Sent Events, relayed event by event as they arrive: a keepalive
 * comment goes out first so load balancers see bytes before the first token, `X-Accel-Buffering: no` stops
 * proxies from buffering, the idle timeout applies between events, and a failure mid-stream ends the stream
 * with a coded `event: error`.
 */
export type OpenAiEndpoint = 'completions' | 'chat/completions';

const KEEPALIVE = ': keepalive\n\n';
const KEEPALIVE_EVERY_MS = 15_000;
const USAGE_SCAN_LIMIT = 1024 * 1024;

export interface Usage {
  prompt_tokens?: number;
  completion_tokens?: number;
}

/** The last `usage` object among complete SSE events in `text`, and the unfinished tail to carry over. */
export function usageFromSse(text: string): { usage: Usage | null; rest: string } {
  const events = text.split('\n\n');
  const rest = events.pop() ?? '';
  let usage: Usage | null = null;
  for (const event of events) {
    if (!event.includes('"usage"')) continue;
    for (const line of event.split('\n')) {
      if (!line.startsWith('data:')) continue;
      try {
        const parsed = JSON.parse(line.slice(5).trim()) as { usage?: Usage };
        if (parsed.usage && typeof parsed.usage === 'object') usage = parsed.usage;
      } catch {
        // not JSON ([DONE], or a partial event): nothing to read
      }
    }
  }
  return { usage, rest };
}

export class OpenAiForwarder {
  constructor(
    private readonly forwarder: Forwarder,
    private readonly onUsage: (pipeline: string, usage: Usage) => void,
    private readonly onFirstByte: (pipeline: string, seconds: number) => void,
  ) {}

  forward(pipeline: PipelineConfig, endpoint: OpenAiEndpoint, request: FastifyRequest, reply: FastifyReply, stats: RequestStats): Promise<FastifyReply> {
    const { deps } = this.forwarder;
    if (mediaType(request.headers['content-type']) !== 'application/json') {
      throw new GatewayError('GW_UNSUPPORTED_MEDIA_TYPE', `OpenAI-compatible routes take application/json, not ${JSON.stringify(request.headers['content-type'] ?? '(missing)')}`);
    }
    assertWithinLimit(declaredLength(request.headers['content-length']), deps.openAiBodyLimit);
    return this.forwarder.admit(pipeline, reply, stats, async (admission) => {
      const body = await readBody(request.raw, deps.openAiBodyLimit, deps.bodyIdleTimeoutMs);
      stats.bytesIn = body.length;
      const parsed = parseJson(body, deps.conversion); // depth and size checked before JSON.parse
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new GatewayError('GW_INVALID_JSON', 'an OpenAI request body is a JSON object');
      const streaming = (parsed as { stream?: unknown }).stream === true;

      await admission.takeSlot();
      const call = { pathSuffix: `/openai/v1/${endpoint}`, contentType: 'application/json', accept: streaming ? 'text/event-stream' : 'application/json' };
      const response = await this.forwarder.upstream.send(pipeline, request, body, call, admission.signal, stats, admission.retryBudget);
      const headers = callerResponseHeaders(response.headers, { requestId: request.id, upstreamStatus: response.statusCode });
      const contentType = firstHeader(response.headers['content-type']) ?? '';
      if (response.statusCode < 300 && contentType.startsWith('text/event-stream') && !Buffer.isBuffer(response.body)) {
        return this.relayEvents(pipeline, response.body, reply, headers, response.statusCode, stats);
      }
      if (response.statusCode < 300 && !Buffer.isBuffer(response.body)) this.watchJsonUsage(pipeline, response.body, reply);
      const length = declaredLength(firstHeader(response.headers['content-length']));
      if (length !== null) headers['content-length'] = String(length);
      return reply.code(response.statusCode).headers(headers).send(response.body);
    });
  }

  private relayEvents(
    pipeline: PipelineConfig,
    upstream: Readable,
    reply: FastifyReply,
    headers: Record<string, unknown>,
    status: number,
    stats: RequestStats,
  ): FastifyReply {
    const out = new PassThrough();
    let lastWrite = Date.now();
    let firstByte = true;
    let bytes = 0;
    let pending = '';
    let usage: Usage | null = null;
    const write = (text: string | Buffer) => {
      lastWrite = Date.now();
      return out.write(text);
    };
    // Before the first token: bytes on the wire at once, so no load balancer cuts a slow first token.
    write(KEEPALIVE);
    const keepalive = setInterval(() => {
      if (Date.now() - lastWrite >= KEEPALIVE_EVERY_MS) write(KEEPALIVE);
    }, KEEPALIVE_EVERY_MS);
    keepalive.unref();
    const finish = () => {
      clearInterval(keepalive);
      stats.bytesOut = bytes;
      if (usage) this.onUsage(pipeline.name, usage);
      out.end();
    };
    upstream.on('data', (chunk: Buffer) => {
      if (firstByte) {
        firstByte = false;
        stats.firstByteMs = reply.elapsedTime;
        this.onFirstByte(pipeline.name, reply.elapsedTime / 1000);
      }
      bytes += chunk.length;
      if (pending.length < USAGE_SCAN_LIMIT) {
        const scanned = usageFromSse(pending + chunk.toString('utf8'));
        pending = scanned.rest;
        usage = scanned.usage ?? usage;
      }
      if (!write(chunk)) {
        upstream.pause(); // the caller reads slowly: hold Wallaroo back rather than buffer
        out.once('drain', () => upstream.resume());
      }
    });
    upstream.once('end', finish);
    upstream.once('error', (error: Error) => {
      // Headers are long gone: end the stream with a coded error event instead of a silent cut.
      const failure = upstreamFailure(error, pipeline.name, pipeline.timeoutMs);
      const reason = (error as { code?: string }).code === 'UND_ERR_BODY_TIMEOUT'
        ? new GatewayError('GW_UPSTREAM_TIMEOUT', `pipeline ${pipeline.name}: no event from Wallaroo for ${pipeline.timeoutMs} ms`)
        : failure;
      write(`event: error\ndata: ${JSON.stringify(reason.toBody())}\n\n`);
      finish();
    });
    // The caller hung up: stop reading from Wallaroo (which closes that connection too).
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) upstream.destroy();
    });
    return reply
      .code(status)
      .headers({ ...headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' })
      .send(out);
  }

  private watchJsonUsage(pipeline: PipelineConfig, body: Readable, reply: FastifyReply): void {
    reply.raw.once('pipe', (source) => {
      if (source !== body) return;
      const chunks: Buffer[] = [];
      let size = 0;
      body.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= USAGE_SCAN_LIMIT) chunks.push(chunk);
      });
      body.once('end', () => {
        if (size > USAGE_SCAN_LIMIT) return;
        try {
          const usage = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { usage?: Usage }).usage;
          if (usage && typeof usage === 'object') this.onUsage(pipeline.name, usage);
        } catch {
          // not an OpenAI answer: nothing to count
        }
      });
    });
  }
}
