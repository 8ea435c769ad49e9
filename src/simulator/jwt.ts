import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Minimal HS256 JWTs, as Keycloak issues (signature, `exp`, `iat`); enough for the simulator to be strict. */
export interface JwtClaims {
  exp: number;
  iat: number;
  [claim: string]: unknown;
}

const base64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

export class JwtSigner {
  private key: Buffer = randomBytes(32);
  private keyId = randomBytes(4).toString('hex');

  /** New key: every token signed before is now invalid (a Keycloak key rotation or a revocation). */
  rotate(): void {
    this.key = randomBytes(32);
    this.keyId = randomBytes(4).toString('hex');
  }

  sign(claims: JwtClaims): string {
    const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: this.keyId }));
    const payload = base64url(JSON.stringify(claims));
    const signature = createHmac('sha256', this.key).update(`${header}.${payload}`).digest('base64url');
    return `${header}.${payload}.${signature}`;
  }

  /** The claims when the signature is ours and the token is not expired; otherwise the reason it is not. */
  verify(token: string, nowSeconds: number): { ok: true; claims: JwtClaims } | { ok: false; reason: string } {
    const parts = token.split('.');
    if (parts.length !== 3) return { ok: false, reason: 'malformed token' };
    const [header, payload, signature] = parts as [string, string, string];
    const expected = createHmac('sha256', this.key).update(`${header}.${payload}`).digest();
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'invalid signature' };
    let claims: JwtClaims;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as JwtClaims;
    } catch {
      return { ok: false, reason: 'malformed token' };
    }
    // As Keycloak's JsonWebToken.isExpired: valid through the whole second `exp` (currentTime > exp expires it),
    // so a token never lives shorter than the `expires_in` it was issued with.
    if (typeof claims.exp !== 'number' || nowSeconds > claims.exp) return { ok: false, reason: 'Token is expired' };
    return { ok: true, claims };
  }
}
