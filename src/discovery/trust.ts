import { hasDotSegments } from '../config/url-safety.ts';
import { GatewayError } from '../errors.ts';

/**
 * SSRF guard for every URL the gateway will send a token to. A resolved URL must be on the configured
 * Wallaroo origin (scheme, host and port all equal), carry no userinfo, be https unless the configured
 * Wallaroo itself is plain http (the simulator), and have no dot segments: `/infer/../auth/...` is on the
 * origin, but would send callers' bodies with the gateway's token to any path there (the token endpoint). Pure.
 */
export function assertTrustedUrl(candidate: string, wallarooOrigin: string): URL {
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    throw new GatewayError('GW_DISCOVERY_UNTRUSTED_URL', 'the resolved inference URL is not a valid absolute URL');
  }
  const trusted = new URL(wallarooOrigin);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && trusted.protocol === 'http:')) {
    throw new GatewayError('GW_DISCOVERY_UNTRUSTED_URL', `the resolved inference URL uses ${url.protocol} where https is required`);
  }
  if (hasDotSegments(candidate)) {
    throw new GatewayError('GW_DISCOVERY_UNTRUSTED_URL', 'the resolved inference URL has "." or ".." path segments');
  }
  if (url.username || url.password) {
    throw new GatewayError('GW_DISCOVERY_UNTRUSTED_URL', 'the resolved inference URL carries credentials');
  }
  if (url.origin !== trusted.origin) {
    // Name the host, never the path (it could carry anything).
    throw new GatewayError('GW_DISCOVERY_UNTRUSTED_URL', `the resolved inference URL's origin ${url.origin} is not the configured Wallaroo origin ${trusted.origin}`);
  }
  return url;
}
