import type { Simulator } from '../../src/simulator/server.ts';
import { type RawConfig, simulatorConfig } from './gateway.ts';
import type { TestIssuer } from './k8s-issuer.ts';

/**
 * simulatorConfig with load shedding off: these tests are about who calls, and a starved shared test machine
 * would otherwise have some of their requests shed with 503 GW_OVERLOADED (tested in test/limits/).
 */
export function callersConfig(simulator: Simulator, overrides: RawConfig = {}): RawConfig {
  return simulatorConfig(simulator, { ...overrides, server: { host: '127.0.0.1', port: 0, maxEventLoopDelayMs: 0, ...(overrides.server as RawConfig | undefined) } });
}

/** `callers` for service-account tokens from `issuer` (keys by its OIDC discovery unless overridden). */
export function kubernetesCallers(issuer: TestIssuer, kubernetes: RawConfig = {}, callers: RawConfig = {}): RawConfig {
  return { authentication: 'kubernetes', kubernetes: { issuer: issuer.url, ...kubernetes }, ...callers };
}

/** An `Authorization` header carrying `token`. */
export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
