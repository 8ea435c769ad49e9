import { createHash } from 'node:crypto';
import { decodeJwt, errors, type JWTPayload, jwtVerify } from 'jose';
import { LRUCache } from 'lru-cache';
import { type Identification, serviceAccountIdentity } from './identity.ts';
import { type IssuerKeys, KeysUnavailableError } from './issuer-keys.ts';

// Kubernetes projected service-account tokens, verified locally (no call to the API server per request): the
// signature against the issuer's keys, the issuer, our audience, expiry and not-before with a small clock skew,
// and a service-account subject. Results are cached under the token's SHA-256 (the token itself is never held),
// so a caller re-sending its token, as every client does until the kubelet rotates it, costs one hash.

/** Asymmetric algorithms only: `none` and HMAC (a public key used as a shared secret) are refused by jose before any key is looked up. */
export const TOKEN_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];

/** Kubernetes tokens are about a kilobyte; anything much longer is refused before it is parsed or hashed. */
export const MAX_TOKEN_LENGTH = 8192;

/** A refusal that later requests with the same token would get too is remembered this long. */
const REFUSAL_CACHE_MS = 30_000;

export interface TokenVerifierOptions {
  issuer: string;
  audience: string;
  clockSkewSeconds: number;
  keys: Pick<IssuerKeys, 'keyFor'>;
  /** Wall-clock milliseconds (token times are Unix seconds). */
  now?: () => number;
  /** Verified (and refused) tokens remembered; each entry is a hash and an identity, about 500 bytes (10,000: 5 MB). */
  cacheEntries?: number;
}

interface Remembered {
  result: Identification;
  /** Wall-clock milliseconds after which the token is verified again. */
  until: number;
}

const refusal = (message: string, presented = true): Identification => ({ ok: false, reason: 'unauthenticated', message, presented });

/** What the caller is told about a token jose refused: the rule it broke, never what it contained. */
function describeFailure(error: unknown, audience: string): { message: string; remember: boolean } {
  if (error instanceof errors.JWTExpired) return { message: 'the token has expired', remember: true };
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'iss':
        return { message: 'the token was not issued by the configured issuer', remember: true };
      case 'aud':
        return { message: `the token's audience does not include ${audience}`, remember: true };
      case 'nbf':
        return { message: 'the token is not valid yet', remember: false };
      default:
        return { message: `the token's "${error.claim}" claim is missing or invalid`, remember: true };
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return { message: `the token's signing algorithm is not accepted (accepted: ${TOKEN_ALGORITHMS.join(', ')})`, remember: true };
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return { message: "the token's signature does not verify", remember: true };
  if (error instanceof errors.JWKSNoMatchingKey) return { message: 'the token is signed with a key the issuer does not publish', remember: false };
  if (error instanceof errors.JWKSMultipleMatchingKeys) return { message: 'the token names no key id and the issuer publishes several keys', remember: true };
  return { message: 'the bearer token is not a valid signed JWT', remember: true };
}

export class ServiceAccountTokenVerifier {
  private readonly cache: LRUCache<string, Remembered>;
  private readonly now: () => number;
  private readonly issuer: string;

  constructor(private readonly options: TokenVerifierOptions) {
    this.now = options.now ?? Date.now;
    this.cache = new LRUCache({ max: options.cacheEntries ?? 10_000 });
    this.issuer = options.issuer.replace(/\/+$/, '');
  }

  /** Forgets every verified token: the keys changed, so each must be checked against the new set. */
  clearCache(): void {
    this.cache.clear();
  }

  /** Who sent `token`, or why it is refused. Synchronous when the token was seen before (the common case). */
  verify(token: string): Identification | Promise<Identification> {
    if (token.length > MAX_TOKEN_LENGTH) return refusal(`the bearer token is longer than ${MAX_TOKEN_LENGTH} characters`);
    const key = createHash('sha256').update(token).digest('base64');
    const remembered = this.cache.get(key);
    if (remembered && remembered.until > this.now()) return remembered.result;
    return this.verifyAndRemember(token, key);
  }

  private async verifyAndRemember(token: string, key: string): Promise<Identification> {
    const { result, until } = await this.check(token);
    if (until !== null) this.cache.set(key, { result, until });
    return result;
  }

  private async check(token: string): Promise<{ result: Identification; until: number | null }> {
    const { audience, clockSkewSeconds } = this.options;
    const refused = (message: string, remember: boolean) => ({ result: refusal(message), until: remember ? this.now() + REFUSAL_CACHE_MS : null });
    // Claims read before any key is looked up: a token from another issuer or for another audience must not
    // prompt a key refresh. The signature check below decides; these only answer early.
    let unverified: JWTPayload;
    try {
      unverified = decodeJwt(token);
    } catch {
      return refused('the bearer token is not a signed JWT', true);
    }
    if (typeof unverified.iss !== 'string' || unverified.iss.replace(/\/+$/, '') !== this.issuer) {
      return refused('the token was not issued by the configured issuer', true);
    }
    const audiences = typeof unverified.aud === 'string' ? [unverified.aud] : Array.isArray(unverified.aud) ? unverified.aud : [];
    if (!audiences.includes(audience)) return refused(`the token's audience does not include ${audience}`, true);

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.options.keys.keyFor, {
        issuer: [this.issuer, `${this.issuer}/`],
        audience,
        algorithms: TOKEN_ALGORITHMS,
        clockTolerance: clockSkewSeconds,
        currentDate: new Date(this.now()),
        requiredClaims: ['exp', 'iat', 'sub'],
      }));
    } catch (error) {
      if (error instanceof KeysUnavailableError) return { result: { ok: false, reason: 'keys_unavailable', message: error.message, presented: true }, until: null };
      const { message, remember } = describeFailure(error, audience);
      return refused(message, remember);
    }

    const identity = serviceAccountIdentity(String(payload.sub));
    if (!identity) return refused('the token\'s subject is not a service account (system:serviceaccount:<namespace>:<name>)', true);
    // The API server writes the same names into its own claim; a token where they disagree was not minted by it.
    const kubernetes = payload['kubernetes.io'] as { namespace?: unknown; serviceaccount?: { name?: unknown } } | undefined;
    if (kubernetes !== undefined && (kubernetes?.namespace !== identity.serviceAccount!.namespace || kubernetes?.serviceaccount?.name !== identity.serviceAccount!.name)) {
      return refused('the token\'s kubernetes.io claim does not match its subject', true);
    }
    // Good until it expires (with the skew jose allows); the cache is cleared if the keys change before then.
    return { result: { ok: true, identity }, until: (payload.exp! + clockSkewSeconds) * 1000 };
  }
}
