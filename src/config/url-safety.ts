import type { ConfigProblem } from './problems.ts';

// What a URL in the config may not do (issue 15, F11/F12): carry credentials (they would be printed, logged and
// sent to whatever the URL names), fail to parse (the error text would echo it), or, toward Wallaroo, travel in
// the clear or with certificate checks off unless the operator says so. Values are never echoed: a URL may embed
// a password.

/** Hosts whose traffic never leaves the machine (or pod): plain http there sends nothing over a network. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** The parsed URL, or null with a problem (never the value) when it does not parse or carries userinfo. */
export function checkedUrl(value: string, path: string, problems: ConfigProblem[]): URL | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.push({ path, message: 'is not a valid URL (value hidden)' });
    return null;
  }
  if (url.username !== '' || url.password !== '') {
    problems.push({ path, message: 'must not carry a user name or password (value hidden): put credentials in the keys meant for them (clientSecret, clientSecretFile, mlops)' });
    return null;
  }
  return url;
}

/** Plain http to a host beyond the loopback interface. */
export function inClear(url: URL): boolean {
  return url.protocol === 'http:' && !isLoopbackHost(url.hostname);
}

export interface WallarooTransport {
  url: URL;
  tokenUrl: URL | null;
  rejectUnauthorized: boolean;
  allowInsecure: boolean;
}

/**
 * Problems with how the gateway talks to Wallaroo: the client secret and tokens must not cross a network in the
 * clear, nor to a server whose certificate is not checked, unless `wallaroo.allowInsecure` says so. An http token
 * URL beside an https Wallaroo is refused even then: it is a typo that would send the secret in the clear.
 */
export function wallarooTransportProblems(transport: WallarooTransport): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { url, tokenUrl, rejectUnauthorized, allowInsecure } = transport;
  const secretMessage = 'tokens and the client secret would cross the network in the clear';
  if (inClear(url) && !allowInsecure) {
    problems.push({ path: 'wallaroo.url', message: `is plain http on a non-loopback host: ${secretMessage}; use https, or set wallaroo.allowInsecure: true (a lab only)` });
  }
  if (tokenUrl && inClear(tokenUrl)) {
    if (url.protocol === 'https:') {
      problems.push({ path: 'wallaroo.auth.tokenUrl', message: 'is plain http while wallaroo.url is https: the client secret would be sent in the clear; use https' });
    } else if (!allowInsecure) {
      problems.push({ path: 'wallaroo.auth.tokenUrl', message: `is plain http on a non-loopback host: ${secretMessage}; use https, or set wallaroo.allowInsecure: true (a lab only)` });
    }
  }
  if (!rejectUnauthorized && !allowInsecure) {
    problems.push({ path: 'wallaroo.tls.rejectUnauthorized', message: 'is false, so any server could pose as Wallaroo and receive the secret; set wallaroo.tls.caFile for a private CA, or wallaroo.allowInsecure: true (a lab only)' });
  }
  return problems;
}

/** The start-up warning when `allowInsecure` is actually used (null: nothing insecure is configured). */
export function insecureTransportWarning(transport: WallarooTransport): string | null {
  const uses = [
    inClear(transport.url) ? 'plain http to Wallaroo' : null,
    transport.tokenUrl && inClear(transport.tokenUrl) ? 'plain http to the token endpoint' : null,
    transport.rejectUnauthorized ? null : "Wallaroo's certificate not verified (tls.rejectUnauthorized: false)",
  ].filter((use): use is string => use !== null);
  if (uses.length === 0) return null;
  return `wallaroo.allowInsecure: ${uses.join(', ')}; tokens and the client secret can be read or taken by anyone on the network path. Use this in a lab only.`;
}

/** `.` or `..` as a path segment, also percent-encoded or after a backslash (URL parsing reads a backslash as `/`). */
const DOT_SEGMENT = /(^|[/\\])(\.|%2e){1,2}($|[/\\?#])/i;

/**
 * Whether an absolute URL's path, as written, has `.` or `..` segments (URL parsing resolves them away, so a URL
 * on the right origin can still name any path there).
 */
export function hasDotSegments(candidate: string): boolean {
  const afterScheme = candidate.indexOf('//');
  const authorityEnd = afterScheme < 0 ? -1 : candidate.slice(afterScheme + 2).search(/[/\\]/);
  return authorityEnd >= 0 && DOT_SEGMENT.test(candidate.slice(afterScheme + 2 + authorityEnd));
}
