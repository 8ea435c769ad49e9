import type { PeerCertificate, TLSSocket } from 'node:tls';
import { commonNameIdentity, type Identification, spiffeIdentity } from './identity.ts';
import type { ClientCaGenerations } from './server-tls.ts';

// mTLS callers: the TLS layer has already checked the client certificate against callers.mtls.caFile (the
// server asks for one but does not hang up without it, so the caller gets a coded 401 rather than a failed
// handshake, and probes without a certificate still reach /healthz). The identity is the certificate's SPIFFE
// ID (its one URI SAN, as the SPIFFE X.509-SVID spec requires), else its subject's common name.

/**
 * Node's `subjectaltname` string split into entries. Node writes a value containing a separator or a quote as
 * a JSON string literal (since 17.3.1 / 16.13.2, CVE-2021-44532), so a name can never pose as another entry.
 */
export function subjectAltNames(text: string): Array<{ type: string; value: string }> | null {
  const names: Array<{ type: string; value: string }> = [];
  let at = 0;
  while (at < text.length) {
    const colon = text.indexOf(':', at);
    if (colon < 0) return null;
    const type = text.slice(at, colon);
    at = colon + 1;
    let value: string;
    if (text[at] === '"') {
      let end = at + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      try {
        value = JSON.parse(text.slice(at, end + 1)) as string;
      } catch {
        return null;
      }
      at = end + 1;
    } else {
      const end = text.indexOf(', ', at);
      value = end < 0 ? text.slice(at) : text.slice(at, end);
      at = end < 0 ? text.length : end;
    }
    names.push({ type, value });
    if (at < text.length) {
      if (!text.startsWith(', ', at)) return null;
      at += 2;
    }
  }
  return names;
}

const refusal = (message: string, presented: boolean): Identification => ({ ok: false, reason: 'unauthenticated', message, presented });

/** The identity a verified client certificate carries. */
export function certificateIdentity(certificate: Pick<PeerCertificate, 'subject' | 'subjectaltname'>): Identification {
  const names = certificate.subjectaltname ? subjectAltNames(certificate.subjectaltname) : [];
  if (names === null) return refusal("the client certificate's subject alternative names cannot be read", true);
  const spiffeIds = names.filter((n) => n.type === 'URI' && n.value.startsWith('spiffe://'));
  if (spiffeIds.length > 1) return refusal('the client certificate has more than one SPIFFE ID (an X.509-SVID has exactly one)', true);
  if (spiffeIds.length === 1) {
    const identity = spiffeIdentity(spiffeIds[0]!.value);
    return identity ? { ok: true, identity } : refusal("the client certificate's SPIFFE ID is malformed", true);
  }
  // Node gives a repeated attribute as an array; two common names would make the identity ambiguous.
  const commonName: unknown = (certificate.subject as unknown as Record<string, unknown> | undefined)?.CN;
  if (typeof commonName !== 'string') return refusal('the client certificate has neither a SPIFFE ID nor a single subject common name', true);
  const identity = commonNameIdentity(commonName);
  return identity ? { ok: true, identity } : refusal("the client certificate's common name is empty or unprintable", true);
}

/** Identifies callers by their TLS connection's client certificate, once per connection. */
export class ClientCertificateIdentification {
  private readonly byConnection = new WeakMap<object, Identification>();

  /** `generations`: which client CA each connection was checked under (server-tls.ts); null without a reloader. */
  constructor(private readonly generations: ClientCaGenerations | null = null) {}

  identify(socket: TLSSocket): Identification {
    const { generations } = this;
    if (generations && (generations.of(socket) ?? generations.latest) !== generations.latest) {
      return refusal('the client CA changed since this connection was made: reconnect to be checked against the new one', true);
    }
    let identification = this.byConnection.get(socket);
    if (!identification) {
      identification = this.fromConnection(socket);
      this.byConnection.set(socket, identification);
    }
    return identification;
  }

  private fromConnection(socket: TLSSocket): Identification {
    if (typeof socket.getPeerCertificate !== 'function') return refusal('a client certificate is required, over TLS', false);
    const certificate = socket.getPeerCertificate(false);
    if (!certificate || Object.keys(certificate).length === 0) return refusal('a client certificate is required', false);
    if (!socket.authorized) {
      const reason = (socket.authorizationError as unknown as { code?: string } | string | null);
      const code = typeof reason === 'string' ? reason : reason?.code ?? 'not verified';
      return refusal(`the client certificate is not trusted (${String(code).slice(0, 64)})`, true);
    }
    return certificateIdentity(certificate);
  }
}
