// The simulator's OpenAI-compatible model: a deterministic "echo" language model, so tests can check exact
// text. The completion is "Echo:" followed by the prompt's words in reverse order, one token per word, cut at
// max_tokens (default 16). Usage counts words. Answers and stream chunks have the fields, order and nulls
// Wallaroo 2025's vLLM answers were recorded with (test/fixtures/wallaroo-recorded/2025/openai-*).
export interface OpenAiRequest {
  kind: 'completions' | 'chat/completions';
  body: Record<string, unknown>;
}

export interface OpenAiCompletion {
  tokens: string[];
  finishReason: 'stop' | 'length';
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

export class OpenAiInputError extends Error {}

function promptText({ kind, body }: OpenAiRequest): string {
  if (kind === 'completions') {
    if (typeof body.prompt === 'string') return body.prompt;
    if (Array.isArray(body.prompt) && body.prompt.every((p) => typeof p === 'string')) return body.prompt.join(' ');
    throw new OpenAiInputError('prompt must be a string or an array of strings');
  }
  if (!Array.isArray(body.messages) || body.messages.length === 0) throw new OpenAiInputError('messages must be a non-empty array');
  return body.messages
    .map((m) => (m && typeof m === 'object' && typeof (m as { content?: unknown }).content === 'string' ? (m as { content: string }).content : ''))
    .join(' ');
}

export function complete(request: OpenAiRequest): OpenAiCompletion {
  const words = promptText(request).split(/\s+/).filter(Boolean);
  const maxTokens = typeof request.body.max_tokens === 'number' && request.body.max_tokens > 0 ? Math.floor(request.body.max_tokens) : 16;
  const all = ['Echo:', ...[...words].reverse()].map((word, i) => (i === 0 ? word : ` ${word}`));
  const tokens = all.slice(0, maxTokens);
  const promptTokens = Math.max(1, words.length);
  return {
    tokens,
    finishReason: tokens.length < all.length ? 'length' : 'stop',
    usage: { prompt_tokens: promptTokens, completion_tokens: tokens.length, total_tokens: promptTokens + tokens.length },
  };
}

/** A whole answer: keys in the recorded (alphabetical) order; completions carry no `object`. */
export function completionBody(request: OpenAiRequest, result: OpenAiCompletion, id: string, model: string, created: number): Record<string, unknown> {
  const text = result.tokens.join('');
  const usage = { completion_tokens: result.usage.completion_tokens, prompt_tokens: result.usage.prompt_tokens, total_tokens: result.usage.total_tokens, tps: null, ttft: null };
  if (request.kind === 'completions') {
    return { choices: [{ finish_reason: result.finishReason, index: 0, logprobs: null, stop_reason: null, text }], created, id, model, usage };
  }
  const message = { content: text, role: 'assistant', tool_calls: [] };
  return { choices: [{ delta: null, finish_reason: result.finishReason, index: 0, message }], created, id, model, object: 'chat.completion', usage };
}

export interface StreamTiming {
  /** Seconds from the request to the first token. */
  ttft: number;
  /** Tokens per second over the whole stream. */
  tps: number;
}

/**
 * The stream's chunks as recorded: chat opens with a role-only delta, the last token carries finish_reason
 * (a completion that stopped gets an extra empty-text chunk for it), every chunk has `"usage": null`, and the
 * usage arrives in a final chunk with `choices: []` — for chat only when `stream_options.include_usage` is
 * set; a completions stream sent it without (recorded once, so both paths get exercised).
 */
export function streamChunks(request: OpenAiRequest, result: OpenAiCompletion, id: string, model: string, created: number): Array<(timing: StreamTiming) => Record<string, unknown>> {
  const chat = request.kind === 'chat/completions';
  const head = chat ? { id, object: 'chat.completion.chunk', created, model } : { id, created, model };
  const choice = (token: string, finish: string | null) => chat
    ? { index: 0, finish_reason: finish, message: null, delta: { role: null, content: token } }
    : { text: token, index: 0, logprobs: null, finish_reason: finish, stop_reason: null };
  const chunks: Array<(timing: StreamTiming) => Record<string, unknown>> = [];
  if (chat) chunks.push(() => ({ ...head, choices: [{ index: 0, finish_reason: null, message: null, delta: { role: 'assistant', content: '' } }], usage: null }));
  const last = result.tokens.length - 1;
  result.tokens.forEach((token, i) => {
    const finishHere = i === last && (chat || result.finishReason === 'length') ? result.finishReason : null;
    chunks.push(() => ({ ...head, choices: [choice(token, finishHere)], usage: null }));
  });
  if (!chat && result.finishReason === 'stop') chunks.push(() => ({ ...head, choices: [choice('', 'stop')], usage: null }));
  const options = request.body.stream_options as { include_usage?: unknown } | undefined;
  if (!chat || options?.include_usage === true) {
    chunks.push((timing) => ({ ...head, choices: [], usage: { ...result.usage, ttft: timing.ttft, tps: timing.tps } }));
  }
  return chunks;
}
