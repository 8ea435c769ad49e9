import { isNamespace, isServiceAccountName, parseSpiffeId } from '../config/caller-patterns.ts';
import type { CallerIdentity } from '../http/caller.ts';

// The three shapes an identity takes, built only from values already checked against their grammar, so an
// identity is safe to log, to key a rate limit on and to show in an error message.

const SERVICE_ACCOUNT_SUBJECT = /^system:serviceaccount:([^:]+):([^:]+)$/;

/** `system:serviceaccount:<ns>:<name>` (a Kubernetes token's `sub`) as an identity, or null if it is not one. */
export function serviceAccountIdentity(subject: string): CallerIdentity | null {
  const match = SERVICE_ACCOUNT_SUBJECT.exec(subject);
  if (!match || !isNamespace(match[1]!) || !isServiceAccountName(match[2]!)) return null;
  return { id: subject, serviceAccount: { namespace: match[1]!, name: match[2]! } };
}

/** A SPIFFE ID as an identity; `.../ns/<ns>/sa/<name>` (Istio's and SPIRE's Kubernetes form) also names a service account. */
export function spiffeIdentity(id: string): CallerIdentity | null {
  const parsed = parseSpiffeId(id);
  if (!parsed) return null;
  const { path } = parsed;
  const serviceAccount = path.length === 4 && path[0] === 'ns' && path[2] === 'sa' && isNamespace(path[1]!) && isServiceAccountName(path[3]!)
    ? { namespace: path[1]!, name: path[3]! }
    : null;
  return { id, serviceAccount };
}

/** A certificate subject's common name as an identity, `CN=<name>`, or null if it is empty or unprintable. */
export function commonNameIdentity(commonName: string): CallerIdentity | null {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses
  if (commonName === '' || commonName.length > 256 || /[\u0000-\u001f\u007f]/.test(commonName)) return null;
  return { id: `CN=${commonName}`, serviceAccount: null };
}

/** Why a request was refused, as counted in `caller_refusals_total{reason}`. */
export type RefusalReason = 'unauthenticated' | 'forbidden' | 'keys_unavailable';

/** Who the caller is, or why that could not be established. */
export type Identification =
  | { readonly ok: true; readonly identity: CallerIdentity }
  | {
      readonly ok: false;
      readonly reason: 'unauthenticated' | 'keys_unavailable';
      /** Safe to send back and log: never the credential, nor anything the caller wrote into it. */
      readonly message: string;
      /** A credential was presented (RFC 6750 3.1: an error code is given only then). */
      readonly presented: boolean;
    };
