import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import type { GatewayConfig } from '../config/types.ts';
import { type TokenEvents, TokenManager } from './token-manager.ts';

export { type Replacement, type Token, TokenManager, type TokenStatus } from './token-manager.ts';
export { type TokenAttempt, withToken } from './replay.ts';

export interface Tokens {
  /** client_credentials token for inference. */
  inference: TokenManager;
  /** Token for the MLOps API: the user's (password grant) when configured, else the inference one. */
  mlops: TokenManager;
  /** Each distinct manager once (to start, close and report). */
  all: readonly TokenManager[];
}

export interface TokenOptions {
  now?: () => number;
  random?: () => number;
}

export function createTokens(config: GatewayConfig, dispatcher: Dispatcher, logger: Logger, events: TokenEvents, options: TokenOptions = {}): Tokens {
  const { auth, mlops } = config.wallaroo;
  const common = {
    tokenUrl: auth.tokenUrl,
    refreshBeforeMs: auth.refreshBeforeExpirySeconds * 1000,
    requestTimeoutMs: auth.requestTimeoutMs,
    dispatcher,
    logger,
    events,
    ...options,
  };
  const inference = new TokenManager({
    ...common,
    kind: 'inference',
    grant: { type: 'client_credentials', clientId: auth.clientId, clientSecret: auth.clientSecret },
  });
  const mlopsManager = mlops
    ? new TokenManager({
        ...common,
        kind: 'mlops',
        grant: { type: 'password', clientId: mlops.clientId, clientSecret: mlops.clientSecret, username: mlops.username, password: mlops.password },
      })
    : inference;
  return { inference, mlops: mlopsManager, all: mlopsManager === inference ? [inference] : [inference, mlopsManager] };
}
