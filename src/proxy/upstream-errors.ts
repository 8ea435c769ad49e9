import { GatewayError } from '../errors.ts';

/** Maps undici transport failures to coded gateway errors, keeping the original as `cause` for the log. */
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);

/** The caller went away while its request was with Wallaroo: nothing to blame on Wallaroo. */
export function callerClosed(cause: unknown): GatewayError {
  return new GatewayError('GW_BAD_REQUEST', 'the caller closed the connection', { cause });
}

export function upstreamFailure(error: unknown, pipeline: string, timeoutMs: number): GatewayError {
  if (error instanceof GatewayError) return error;
  const code = (error as { code?: string } | null)?.code;
  const name = (error as { name?: string } | null)?.name;
  if ((code && TIMEOUT_CODES.has(code)) || name === 'TimeoutError') {
    const what = code === 'UND_ERR_CONNECT_TIMEOUT' ? 'connecting to' : 'waiting for';
    return new GatewayError('GW_UPSTREAM_TIMEOUT', `pipeline ${pipeline}: timed out ${what} Wallaroo (limit ${timeoutMs} ms)`, { cause: error });
  }
  return new GatewayError('GW_UPSTREAM_UNREACHABLE', `pipeline ${pipeline}: Wallaroo could not be reached (${code ?? name ?? 'error'})`, { cause: error });
}
