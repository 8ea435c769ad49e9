import { LRUCache } from 'lru-cache';
import { GatewayError } from '../errors.ts';

// Content negotiation for the inference route. Pure: header values in, decisions out.
// Wallaroo itself reads and writes pandas-records JSON and the Arrow IPC *file* format; the gateway also
// speaks the Arrow IPC *stream* format to callers and converts at the edge.

export type BodyFormat = 'json' | 'arrow-file' | 'arrow-stream';

export const MEDIA_TYPES: Record<BodyFormat, string> = {
  json: 'application/json; format=pandas-records',
  'arrow-file': 'application/vnd.apache.arrow.file',
  'arrow-stream': 'application/vnd.apache.arrow.stream',
};

interface MediaRange {
  type: string;
  params: Map<string, string>;
  q: number;
}

function parseMediaRange(text: string): MediaRange | null {
  const [essence, ...rawParams] = text.split(';');
  const type = (essence ?? '').trim().toLowerCase();
  if (!/^[a-z0-9!#$&^_.+*-]+\/[a-z0-9!#$&^_.+*-]+$/.test(type)) return null;
  const params = new Map<string, string>();
  let q = 1;
  for (const param of rawParams) {
    const at = param.indexOf('=');
    if (at < 0) continue;
    const key = param.slice(0, at).trim().toLowerCase();
    const value = param.slice(at + 1).trim().replace(/^"(.*)"$/, '$1');
    if (key === 'q') {
      const parsed = Number(value);
      q = Number.isFinite(parsed) && parsed >= 0 && parsed <= 1 ? parsed : 0;
    } else {
      params.set(key, value.toLowerCase());
    }
  }
  return { type, params, q };
}

function formatOf(range: MediaRange): BodyFormat | null {
  switch (range.type) {
    case 'application/json': {
      const format = range.params.get('format');
      return format === undefined || format === 'pandas-records' ? 'json' : null;
    }
    case 'application/vnd.apache.arrow.file':
      return 'arrow-file';
    case 'application/vnd.apache.arrow.stream':
      return 'arrow-stream';
    default:
      return null;
  }
}

const answerFormats = new Map<string, BodyFormat | null>();
const ANSWER_FORMATS_KEPT = 64;

/**
 * The format of an answer from its Content-Type; null when it names none the gateway knows (or is missing). Read
 * for every answer, so the few types Wallaroo sends are parsed once (the first 64 short ones are remembered).
 */
export function answerFormat(contentType: string | undefined): BodyFormat | null {
  if (!contentType) return null;
  const known = answerFormats.get(contentType);
  if (known !== undefined) return known;
  const range = parseMediaRange(contentType);
  const format = range ? formatOf(range) : null;
  if (answerFormats.size < ANSWER_FORMATS_KEPT && contentType.length <= 128) answerFormats.set(contentType, format);
  return format;
}

/** The format of a request body from its Content-Type; missing or unsupported is GW_UNSUPPORTED_MEDIA_TYPE. */
export function requestFormat(contentType: string | undefined): BodyFormat {
  const range = contentType ? parseMediaRange(contentType) : null;
  const format = range ? formatOf(range) : null;
  if (!format) {
    throw new GatewayError(
      'GW_UNSUPPORTED_MEDIA_TYPE',
      `Content-Type ${contentType ? JSON.stringify(contentType) : '(missing)'} is not supported; send ${Object.values(MEDIA_TYPES).join(', or ')}`,
    );
  }
  return format;
}

/**
 * The format the caller wants back. `null` means the caller expressed no preference (no Accept, or only
 * wildcards): it then gets Wallaroo's default answer. An Accept naming only formats we cannot give is
 * GW_NOT_ACCEPTABLE.
 */
export function acceptedFormat(accept: string | undefined, preferred: BodyFormat): BodyFormat | null {
  if (!accept || accept.trim() === '') return null;
  const ranges = accept.split(',').map(parseMediaRange).filter((r): r is MediaRange => r !== null && r.q > 0);
  let best: { format: BodyFormat | null; q: number; specificity: number } | null = null;
  for (const range of ranges) {
    let format: BodyFormat | null;
    let specificity: number;
    if (range.type === '*/*' || range.type === 'application/*') {
      format = null;
      specificity = range.type === '*/*' ? 0 : 1;
    } else {
      format = formatOf(range);
      if (!format) continue;
      specificity = 2;
    }
    // Highest q wins; at equal q the more specific range, then the caller's own format, then header order.
    const better =
      !best ||
      range.q > best.q ||
      (range.q === best.q && specificity > best.specificity) ||
      (range.q === best.q && specificity === best.specificity && format === preferred && best.format !== preferred);
    if (better) best = { format, q: range.q, specificity };
  }
  if (!best) {
    throw new GatewayError('GW_NOT_ACCEPTABLE', `Accept ${JSON.stringify(accept)} names no format the gateway can answer in; accepted: ${Object.values(MEDIA_TYPES).join(', ')}`);
  }
  return best.format;
}

/** What Wallaroo can read and write: everything but the Arrow stream format. */
export function wallarooFormat(format: BodyFormat): Exclude<BodyFormat, 'arrow-stream'> {
  return format === 'arrow-stream' ? 'arrow-file' : format;
}

export interface ConversionPlan {
  /** Format the caller sent. */
  inbound: BodyFormat;
  /** Format Wallaroo receives. */
  upstreamRequest: Exclude<BodyFormat, 'arrow-stream'>;
  /** Format asked of Wallaroo with Accept. */
  upstreamResponse: Exclude<BodyFormat, 'arrow-stream'>;
  /** Format the caller gets. */
  outbound: BodyFormat;
}

/**
 * What Wallaroo answers when Accept does not choose: pandas-records JSON, whatever the request's format (also
 * for Arrow input with curl's wildcard Accept). A caller without a preference gets the same through the gateway.
 */
export const WALLAROO_DEFAULT_ANSWER: BodyFormat = 'json';

/**
 * Plans the conversions for one request. `upstreamFormat` decides what Wallaroo receives; the caller gets what
 * its Accept asks for, and without a preference what Wallaroo answers by default (pandas-records JSON), as when
 * calling Wallaroo directly. Wallaroo answers in JSON or Arrow file as asked, so the answer is converted only
 * when the caller wants the Arrow stream format.
 */
export function planConversion(
  contentType: string | undefined,
  accept: string | undefined,
  upstreamFormat: 'passthrough' | 'arrow' | 'json',
): ConversionPlan {
  const inbound = requestFormat(contentType);
  const outbound = acceptedFormat(accept, inbound) ?? WALLAROO_DEFAULT_ANSWER;
  const upstreamRequest = upstreamFormat === 'arrow' ? 'arrow-file' : upstreamFormat === 'json' ? 'json' : wallarooFormat(inbound);
  return { inbound, upstreamRequest, upstreamResponse: wallarooFormat(outbound), outbound };
}

const PLAN_CACHE_ENTRIES = 256;
const PLAN_CACHE_KEY_LIMIT = 512;
const planCache = new LRUCache<string, ConversionPlan>({ max: PLAN_CACHE_ENTRIES });

/**
 * planConversion, remembered: callers send the same few Content-Type/Accept pairs again and again, and parsing
 * them showed in the hot-path profile. Only short, successfully planned pairs are kept, the least recently used
 * dropped first, so a flood of odd headers cannot evict the pairs in steady use all at once.
 */
export function cachedPlanConversion(
  contentType: string | undefined,
  accept: string | undefined,
  upstreamFormat: 'passthrough' | 'arrow' | 'json',
): ConversionPlan {
  const key = `${upstreamFormat}\n${contentType === undefined ? '-' : `+${contentType}`}\n${accept === undefined ? '-' : `+${accept}`}`;
  const known = planCache.get(key);
  if (known) return known;
  const plan = Object.freeze(planConversion(contentType, accept, upstreamFormat));
  if (key.length <= PLAN_CACHE_KEY_LIMIT) planCache.set(key, plan);
  return plan;
}

/** How many plans are remembered (for tests and debugging). */
export function planCacheSize(): number {
  return planCache.size;
}

export function needsRequestConversion(plan: ConversionPlan): boolean {
  return plan.inbound !== plan.upstreamRequest;
}

export function needsResponseConversion(plan: ConversionPlan): boolean {
  return plan.outbound !== plan.upstreamResponse;
}
