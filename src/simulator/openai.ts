/**
 * The simulator's OpenAI-compatible model: a deterministic "echo" language model, so tests can check exact
 * text. The completion is "Echo:" followed by the prompt's words in reverse order, one token per word, cut at
 * max_tokens (default 16). Usage counts words.
 */
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

export function completionBody(request: OpenAiRequest, result: OpenAiCompletion, id: string, model: string, created: number): Record<string, unknown> {
  const text = result.tokens.join('');
  const choice = request.kind === 'completions'
    ? { index: 0, text, logprobs: null, finish_reason: result.finishReason }
    : { index: 0, message: { role: 'assistant', content: text }, finish_reason: result.finishReason };
  return { id, object: request.kind === 'completions' ? 'text_completion' : 'chat.completion', created, model, choices: [choice], usage: result.usage };
}

/** One SSE chunk per token; the last carries finish_reason and usage. */
export function streamChunks(request: OpenAiRequest, result: OpenAiCompletion, id: string, model: string, created: number): Array<Record<string, unknown>> {
  const object = request.kind === 'completions' ? 'text_completion' : 'chat.completion.chunk';
  const chunks = result.tokens.map((token, i) => ({
    id, object, created, model,
    choices: [request.kind === 'completions'
      ? { index: 0, text: token, logprobs: null, finish_reason: null }
      : { index: 0, delta: i === 0 ? { role: 'assistant', content: token } : { content: token }, finish_reason: null }],
  }));
  chunks.push({
    id, object, created, model,
    choices: [request.kind === 'completions' ? { index: 0, text: '', logprobs: null, finish_reason: result.finishReason } : { index: 0, delta: {}, finish_reason: result.finishReason }],
    usage: result.usage,
  } as never);
  return chunks;
}
