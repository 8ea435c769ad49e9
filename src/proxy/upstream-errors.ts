import { GatewayError } from '../errors.ts';

// Maps undici transport failures to coded gateway errors, keeping the original as `cause` for the log (never in
// the message: callers see the code of what happened, not library text).

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);
/** Wallaroo answered, but not with HTTP the gateway can pass on: a bad status line, oversized headers, a body
 * shorter or longer than its Content-Length, an invalid chunk. */
const BAD_ANSWER_CODES = new Set(['UND_ERR_HEADERS_OVERFLOW', 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'UND_ERR_RES_EXCEEDED_MAX_SIZE', 'UND_ERR_INFO']);

export function upstreamFailure(error: unknown, pipeline: string, timeoutMs: number): GatewayError {
  if (error instanceof GatewayError) return error;
  const code = (error as { code?: string } | null)?.code;
  const name = (error as { name?: string } | null)?.name;
  if ((code && TIMEOUT_CODES.has(code)) || name === 'TimeoutError') {
    const what = code === 'UND_ERR_CONNECT_TIMEOUT' ? 'connecting to' : 'waiting for';
    return new GatewayError('GW_UPSTREAM_TIMEOUT', `pipeline ${pipeline}: timed out ${what} Wallaroo (limit ${timeoutMs} ms)`, { cause: error });
  }
  if ((code && (BAD_ANSWER_CODES.has(code) || code.startsWith('HPE_'))) || name === 'HTTPParserError' || name === 'ResponseContentLengthMismatchError') {
    return new GatewayError('GW_UPSTREAM_BAD_RESPONSE', `pipeline ${pipeline}: Wallaroo's answer was not valid HTTP (${code ?? name})`, { cause: error });
  }
  return new GatewayError('GW_UPSTREAM_UNREACHABLE', `pipeline ${pipeline}: Wallaroo could not be reached (${code ?? name ?? 'error'})`, { cause: error });
}
