// The OpenAI-compatible endpoints of a pipeline (`<url>/openai/v1/completions`, `.../chat/completions`),
// from 2025: whole answers, or Server-Sent Events chunk by chunk when `"stream": true`. Versions without
// them answer "deployment not found", as any unknown path under the inference URL.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import type { SimulatorControl } from './control.ts';
import { INFERENCE_PATH } from './inference.ts';
import { admitInference } from './inference-gate.ts';
import { complete, completionBody, OpenAiInputError, type OpenAiRequest, streamChunks } from './openai-model.ts';
import { sendError } from './platform.ts';

const MODEL_FILE = 'echo-llm.zip';

export function registerOpenAi(app: FastifyInstance, control: SimulatorControl): void {
  for (const kind of ['completions', 'chat/completions'] as const) {
    app.post(`${INFERENCE_PATH}/openai/v1/${kind}`, async (request, reply) => {
      if (!control.profile.openAi) return sendError(control, reply, 'deployment-not-found');
      const started = performance.now();
      const state = await admitInference(control, request, reply);
      if (!state) return reply;
      if (state.pipeline.model !== 'openai') return sendError(control, reply, 'openai-call-on-native-pipeline');
      let openAi: OpenAiRequest;
      let result: ReturnType<typeof complete>;
      try {
        const parsed: unknown = JSON.parse(((request.body as Buffer | undefined) ?? Buffer.alloc(0)).toString('utf8'));
        if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new OpenAiInputError('the body must be a JSON object');
        openAi = { kind, body: parsed as Record<string, unknown> };
        result = complete(openAi);
      } catch (error) {
        return sendError(control, reply, 'bad-input', error instanceof OpenAiInputError ? error.message : 'the body is not valid JSON');
      }
      const id = `${kind === 'completions' ? 'cmpl' : 'chatcmpl'}-${randomBytes(16).toString('hex')}`;
      const created = Math.floor(Date.now() / 1000);
      if (openAi.body.stream !== true) return completionBody(openAi, result, id, MODEL_FILE, created);

      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      raw.flushHeaders(); // as model servers do: the stream is open before the first token is ready
      const chunks = streamChunks(openAi, result, id, MODEL_FILE, created);
      let firstTokenAt = 0;
      for (let i = 0; i < chunks.length; i++) {
        if (raw.destroyed) return;
        if (control.streamTokenDelayMs > 0) await sleep(control.streamTokenDelayMs);
        if (control.streamFailAfterTokens !== null && i === control.streamFailAfterTokens) {
          raw.socket?.destroy(); // the model server dies mid-stream, after the earlier chunks went out
          return;
        }
        firstTokenAt ||= performance.now();
        const seconds = (performance.now() - started) / 1000;
        const chunk = chunks[i]!({ ttft: (firstTokenAt - started) / 1000, tps: result.tokens.length / Math.max(seconds, 1e-6) });
        raw.write(`data: ${JSON.stringify(chunk)}\n\n`);
        control.emit('stream-chunk', { pipeline: state.pipeline.name, index: i });
      }
      raw.end('data: [DONE]\n\n');
    });
  }
}
