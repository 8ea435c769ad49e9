import { createHash, createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { exportJWK, exportSPKI, generateKeyPair, type JWK, SignJWT } from 'jose';

// A stand-in for the Kubernetes API server as a token issuer: keys named the way it names them (kid = base64url
// SHA-256 of the public key's DER), tokens shaped like TokenRequest's (aud list, kubernetes.io claim, sub
// system:serviceaccount:<ns>:<name>), OIDC discovery and JWKS served over HTTP on 127.0.0.1. Tests rotate keys,
// make the JWKS endpoint fail or hang, and count fetches.

export type SigningAlgorithm = 'RS256' | 'ES256';

interface IssuerKey {
  kid: string;
  alg: SigningAlgorithm;
  privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  publicJwk: JWK;
  publicPem: string;
}

export interface TokenOptions {
  namespace: string;
  name: string;
  audience?: string | string[];
  /** Seconds from now; negative for an expired token. Default 3600. */
  expiresIn?: number;
  issuedAt?: number;
  issuer?: string;
  /** Sign with this key (default: the current one). */
  kid?: string;
  /** Name this kid in the header instead of the signing key's (a token naming a key nobody has). */
  headerKid?: string;
  /** Extra or overriding claims (applied last). */
  claims?: Record<string, unknown>;
}

export interface TestIssuer {
  /** The issuer URL, also the base of its discovery document. */
  url: string;
  jwksUrl: string;
  counts: { discovery: number; jwks: number };
  /** While true, JWKS requests get no answer (held open until the issuer closes). */
  hangJwks: boolean;
  /** While set, JWKS requests are answered with this status and no keys. */
  failJwksWith: number | null;
  /** While set, discovery and JWKS requests without exactly this Authorization get 401 (as the API server's do). */
  requiredAuthorization: string | null;
  /** The Authorization of each discovery and JWKS request, in order. */
  discoveryAuthorizations: Array<string | undefined>;
  jwksAuthorizations: Array<string | undefined>;
  /** The jwks_uri the discovery document names (default: jwksUrl). */
  discoveredJwksUri: string | null;
  /** Adds a key, published in the JWKS and used for new tokens from now on; returns its kid. */
  addKey(alg: SigningAlgorithm): Promise<string>;
  /** Stops publishing a key (tokens signed with it no longer verify once the gateway refreshes). */
  unpublish(kid: string): void;
  /** A key that signs but is never published: tokens with an unknown kid. */
  unpublishedKey(alg: SigningAlgorithm): Promise<string>;
  currentKid(): string;
  publicKeyPem(kid: string): string;
  token(options: TokenOptions): Promise<string>;
  /** Resolves once the JWKS endpoint has been asked `count` times in all. */
  jwksRequests(count: number): Promise<void>;
  close(): Promise<void>;
}

const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

/** The kid Kubernetes gives a key: base64url(SHA-256(DER of the public key)) (pkg/serviceaccount/jwt.go keyIDFromPublicKey). */
async function kubernetesKeyId(publicPem: string): Promise<string> {
  const der = Buffer.from(publicPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  return createHash('sha256').update(der).digest('base64url');
}

async function makeKey(alg: SigningAlgorithm): Promise<IssuerKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicPem = await exportSPKI(publicKey);
  const kid = await kubernetesKeyId(publicPem);
  const publicJwk = { ...(await exportJWK(publicKey)), use: 'sig', kid, alg };
  return { kid, alg, privateKey, publicJwk, publicPem };
}

export interface IssuerOptions {
  firstKey?: SigningAlgorithm;
  /** Serve HTTPS with this certificate (as the API server does) rather than HTTP. */
  tls?: { certPem: string; keyPem: string };
}

/** An issuer on 127.0.0.1:0 with one key (RS256 unless asked), closed when the test ends. */
export async function startIssuer(t: TestContext | null, options: SigningAlgorithm | IssuerOptions = {}): Promise<TestIssuer> {
  const { firstKey = 'RS256', tls } = typeof options === 'string' ? { firstKey: options } : options;
  const keys = new Map<string, IssuerKey>();
  const published = new Set<string>();
  let current = '';
  const held = new Set<ServerResponse>();
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const send = (response: ServerResponse, status: number, body: unknown) => {
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '').split('?')[0];
    if (path === '/openid/v1/jwks') issuer.jwksAuthorizations.push(request.headers.authorization);
    if (path === '/.well-known/openid-configuration') issuer.discoveryAuthorizations.push(request.headers.authorization);
    if (issuer.requiredAuthorization !== null && request.headers.authorization !== issuer.requiredAuthorization) {
      return send(response, 401, { kind: 'Status', status: 'Failure', reason: 'Unauthorized', code: 401 });
    }
    if (path === '/.well-known/openid-configuration') {
      issuer.counts.discovery++;
      return send(response, 200, {
        issuer: issuer.url,
        jwks_uri: issuer.discoveredJwksUri ?? issuer.jwksUrl,
        response_types_supported: ['id_token'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['ES256', 'RS256'],
      });
    }
    if (path === '/openid/v1/jwks') {
      issuer.counts.jwks++;
      for (const waiter of waiters.filter((w) => issuer.counts.jwks >= w.count)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
      if (issuer.hangJwks) {
        held.add(response);
        response.once('close', () => held.delete(response));
        return;
      }
      if (issuer.failJwksWith !== null) return send(response, issuer.failJwksWith, { error: 'unavailable' });
      return send(response, 200, { keys: [...published].map((kid) => keys.get(kid)!.publicJwk) });
    }
    send(response, 404, { error: 'not found' });
  };
  const server = tls ? createHttpsServer({ cert: tls.certPem, key: tls.keyPem }, handle) : createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const issuer: TestIssuer = {
    url,
    jwksUrl: `${url}/openid/v1/jwks`,
    counts: { discovery: 0, jwks: 0 },
    hangJwks: false,
    failJwksWith: null,
    requiredAuthorization: null,
    discoveryAuthorizations: [],
    jwksAuthorizations: [],
    discoveredJwksUri: null,
    async addKey(alg) {
      const key = await makeKey(alg);
      keys.set(key.kid, key);
      published.add(key.kid);
      current = key.kid;
      return key.kid;
    },
    unpublish(kid) {
      published.delete(kid);
    },
    async unpublishedKey(alg) {
      const key = await makeKey(alg);
      keys.set(key.kid, key);
      return key.kid;
    },
    currentKid: () => current,
    publicKeyPem: (kid) => keys.get(kid)!.publicPem,
    async token(options) {
      const key = keys.get(options.kid ?? current)!;
      const now = options.issuedAt ?? Math.floor(Date.now() / 1000);
      const claims = {
        aud: options.audience ?? ['wallaroo-gateway'],
        exp: now + (options.expiresIn ?? 3600),
        iat: now,
        iss: options.issuer ?? url,
        jti: randomUUID(),
        'kubernetes.io': {
          namespace: options.namespace,
          pod: { name: `${options.name}-7d9f8b6c5-x2x4z`, uid: randomUUID() },
          serviceaccount: { name: options.name, uid: randomUUID() },
        },
        nbf: now,
        sub: `system:serviceaccount:${options.namespace}:${options.name}`,
        ...options.claims,
      };
      return new SignJWT(claims)
        .setProtectedHeader({ alg: key.alg, kid: options.headerKid ?? key.kid })
        .sign(key.privateKey);
    },
    jwksRequests(count) {
      if (issuer.counts.jwks >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    async close() {
      for (const response of held) response.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  await issuer.addKey(firstKey);
  t?.after(() => issuer.close());
  return issuer;
}

/** A token with `alg: none` and no signature, otherwise well formed. */
export function unsignedToken(issuer: TestIssuer, options: { namespace: string; name: string }): string {
  const now = Math.floor(Date.now() / 1000);
  const header = b64url(JSON.stringify({ alg: 'none', kid: issuer.currentKid() }));
  const payload = b64url(JSON.stringify({ iss: issuer.url, sub: `system:serviceaccount:${options.namespace}:${options.name}`, aud: ['wallaroo-gateway'], iat: now, nbf: now, exp: now + 3600 }));
  return `${header}.${payload}.`;
}

/** The classic key-confusion forgery: HS256, with the issuer's public key (PEM) as the HMAC secret. */
export function publicKeyHmacToken(issuer: TestIssuer, options: { namespace: string; name: string }): string {
  const now = Math.floor(Date.now() / 1000);
  const kid = issuer.currentKid();
  const header = b64url(JSON.stringify({ alg: 'HS256', kid }));
  const payload = b64url(JSON.stringify({ iss: issuer.url, sub: `system:serviceaccount:${options.namespace}:${options.name}`, aud: ['wallaroo-gateway'], iat: now, nbf: now, exp: now + 3600 }));
  const signature = createHmac('sha256', issuer.publicKeyPem(kid)).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}

/** `token` with its payload changed (namespace swapped) and the original signature kept. */
export function tamperedToken(token: string, namespace: string): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown> & { 'kubernetes.io': { namespace: string; serviceaccount: { name: string } } };
  claims['kubernetes.io'].namespace = namespace;
  claims.sub = `system:serviceaccount:${namespace}:${claims['kubernetes.io'].serviceaccount.name}`;
  return `${header}.${b64url(JSON.stringify(claims))}.${signature}`;
}
