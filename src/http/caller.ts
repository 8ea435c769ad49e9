// Who made a request, once callers/ has verified it: a request-level fact like the request id, declared here
// (the ground floor) so the rooms that read it (limits/ for rate-limit keys, the request log) need not import
// callers/, which sits above them.

/** A verified caller. */
export interface CallerIdentity {
  /** Shown in logs, keyed on by rate limits: `system:serviceaccount:<ns>:<name>`, a SPIFFE ID, or `CN=<name>`. */
  readonly id: string;
  /** The namespace and name when the caller is a service account (a token, or a SPIFFE ID `.../ns/<ns>/sa/<name>`). */
  readonly serviceAccount: { readonly namespace: string; readonly name: string } | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified caller on the inference routes when `callers.authentication` is on; null otherwise. */
    caller: CallerIdentity | null;
  }
}
