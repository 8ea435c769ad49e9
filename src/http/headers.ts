// Leaf helpers for HTTP header values, shared by every room that reads a request. Pure.
import { randomUUID } from 'node:crypto';
import { GatewayError } from '../errors.ts';

/** A caller's x-request-id is kept only in this form (it ends up in logs). */
export const REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** The first value of a header that may have been sent more than once. */
export function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Keep a caller's x-request-id only when it is well formed (it ends up in our logs); otherwise make one. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const value = firstHeader(header);
  return value !== undefined && REQUEST_ID.test(value) ? value : randomUUID();
}

/** The media type of a Content-Type or single Accept value, lower-cased, without parameters ('' when absent). */
export function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * A request body's length as its headers declare it: Content-Length, or 0 when neither Content-Length nor
 * Transfer-Encoding is sent (a zero-length body, RFC 9112 6.3); null when it is not known before it is read.
 */
export function declaredRequestLength(headers: { 'content-length'?: string | undefined; 'transfer-encoding'?: string | undefined }): number | null {
  const coding = headers['transfer-encoding'];
  if (coding === undefined && headers['content-length'] === undefined) return 0;
  // Node's parser takes `gzip, chunked` and undoes only the chunking: the gzip would reach Wallaroo as the body.
  if (coding !== undefined && coding.trim().toLowerCase() !== 'chunked') {
    throw new GatewayError('GW_BAD_FRAMING', `Transfer-Encoding ${JSON.stringify(coding.slice(0, 64))} is not supported: send the body chunked only (a compressed body says so in Content-Encoding)`);
  }
  return declaredLength(headers['content-length']);
}

/** A Content-Length header as a byte count; null when absent or not a plain decimal number. */
export function declaredLength(header: string | undefined): number | null {
  if (header === undefined || !/^\d+$/.test(header)) return null;
  return Number(header);
}
