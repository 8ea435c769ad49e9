// The syntax of allow-list entries (`callers.allow`, `pipelines[].allow`), parsed here so the config loader can
// name every bad entry with its path; callers/allow-list.ts matches identities against the parsed form.

/** One allow-list entry, parsed. `*` in a segment matches exactly one segment. */
export type CallerPattern =
  | { readonly kind: 'any' }
  | { readonly kind: 'service-account'; readonly namespace: string; readonly name: string }
  | { readonly kind: 'spiffe'; readonly trustDomain: string; readonly path: readonly string[] }
  | { readonly kind: 'subject'; readonly commonName: string };

export const WILDCARD = '*';

// Kubernetes: a namespace is a DNS-1123 label, a service account name a DNS-1123 subdomain.
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const SERVICE_ACCOUNT = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
// SPIFFE ID (spiffe.io SPIFFE-ID spec, 2.1 and 2.2): lower-case trust domain, path segments of [A-Za-z0-9._-].
const TRUST_DOMAIN = /^[a-z0-9._-]{1,255}$/;
const PATH_SEGMENT = /^[A-Za-z0-9._-]+$/;
const SPIFFE_SCHEME = 'spiffe://';

export function isNamespace(value: string): boolean {
  return NAMESPACE.test(value);
}

export function isServiceAccountName(value: string): boolean {
  return SERVICE_ACCOUNT.test(value);
}

/** A SPIFFE ID split into trust domain and path segments, or null when `id` is not a valid one. */
export function parseSpiffeId(id: string, allowWildcards = false): { trustDomain: string; path: string[] } | null {
  if (!id.startsWith(SPIFFE_SCHEME) || id.length > 2048) return null;
  const [trustDomain = '', ...path] = id.slice(SPIFFE_SCHEME.length).split('/');
  if (!TRUST_DOMAIN.test(trustDomain)) return null;
  for (const segment of path) {
    if (allowWildcards && segment === WILDCARD) continue;
    if (!PATH_SEGMENT.test(segment) || segment === '.' || segment === '..') return null;
  }
  return { trustDomain, path };
}

const EXPECTED =
  'must be namespace/name (either may be *), system:serviceaccount:<namespace>:<name>, a SPIFFE ID ' +
  '(spiffe://trust-domain/path, * for one segment), CN=<certificate common name>, or * for any verified caller';

function serviceAccountPattern(namespace: string, name: string, text: string): CallerPattern {
  if (namespace !== WILDCARD && !isNamespace(namespace)) {
    throw new Error(`${JSON.stringify(text)}: ${JSON.stringify(namespace)} is not a Kubernetes namespace name (lower-case letters, digits, '-')`);
  }
  if (name !== WILDCARD && !isServiceAccountName(name)) {
    throw new Error(`${JSON.stringify(text)}: ${JSON.stringify(name)} is not a Kubernetes service account name (lower-case letters, digits, '-', '.')`);
  }
  return { kind: 'service-account', namespace, name };
}

/** Parses one allow-list entry; throws an Error whose message says what is wrong with it. */
export function parseCallerPattern(text: string): CallerPattern {
  if (text === WILDCARD) return { kind: 'any' };
  if (text.startsWith(SPIFFE_SCHEME)) {
    const parsed = parseSpiffeId(text, true);
    if (!parsed) throw new Error(`${JSON.stringify(text)} is not a SPIFFE ID (spiffe://trust-domain/path; segments of letters, digits, '.', '_', '-', or *)`);
    return { kind: 'spiffe', trustDomain: parsed.trustDomain, path: parsed.path };
  }
  if (text.startsWith('CN=')) {
    const commonName = text.slice(3);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses
    if (commonName === '' || commonName.length > 256 || /[\u0000-\u001f\u007f]/.test(commonName)) {
      throw new Error(`${JSON.stringify(text)}: the common name must be 1 to 256 printable characters`);
    }
    return { kind: 'subject', commonName };
  }
  const serviceAccount = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(text);
  if (serviceAccount) return serviceAccountPattern(serviceAccount[1]!, serviceAccount[2]!, text);
  const parts = text.split('/');
  if (parts.length === 2) return serviceAccountPattern(parts[0]!, parts[1]!, text);
  throw new Error(`${JSON.stringify(text.slice(0, 200))} ${EXPECTED}`);
}
