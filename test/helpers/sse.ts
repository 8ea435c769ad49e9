import { request } from 'undici';

export interface SseEvent {
  at: number;
  /** Date.now() when the event was read: comparable with what the simulator records in the same process. */
  receivedAt: number;
  comment?: string;
  event?: string;
  data?: string;
}

/** Reads an SSE answer event by event, stamping each with the ms since the request started. */
export async function readEvents(url: string, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal, stopAfter?: number) {
  const started = Date.now();
  const response = await request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), signal });
  const events: SseEvent[] = [];
  let buffer = '';
  for await (const chunk of response.body) {
    buffer += chunk.toString();
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const receivedAt = Date.now();
      const event: SseEvent = { at: receivedAt - started, receivedAt };
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) event.comment = line.slice(1).trim();
        else if (line.startsWith('event:')) event.event = line.slice(6).trim();
        else if (line.startsWith('data:')) event.data = line.slice(5).trim();
      }
      events.push(event);
    }
    if (stopAfter !== undefined && events.filter((e) => e.data).length >= stopAfter) break;
  }
  return { status: response.statusCode, headers: response.headers, events };
}
