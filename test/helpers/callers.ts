import type { RawConfig } from './gateway.ts';
import type { TestIssuer } from './k8s-issuer.ts';

/** `callers` for service-account tokens from `issuer` (keys by its OIDC discovery unless overridden). */
export function kubernetesCallers(issuer: TestIssuer, kubernetes: RawConfig = {}, callers: RawConfig = {}): RawConfig {
  return { authentication: 'kubernetes', kubernetes: { issuer: issuer.url, ...kubernetes }, ...callers };
}

/** An `Authorization` header carrying `token`. */
export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
