import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import type { GatewayConfig } from '../config/types.ts';
import { type TokenEvents, TokenManager } from './token-manager.ts';

export { TokenManager } from './token-manager.ts';

export interface Tokens {
  /** client_credentials token for inference. */
  inference: TokenManager;
  /** Token for the MLOps admin API: the user's (password grant) when configured, else the inference one. */
  mlops: TokenManager;
}

export function createTokens(config: GatewayConfig, dispatcher: Dispatcher, logger: Logger, events: TokenEvents): Tokens {
  const { auth, mlops } = config.wallaroo;
  const refreshBeforeMs = auth.refreshBeforeExpirySeconds * 1000;
  const inference = new TokenManager({
    kind: 'inference',
    tokenUrl: auth.tokenUrl,
    grant: { type: 'client_credentials', clientId: auth.clientId, clientSecret: auth.clientSecret },
    refreshBeforeMs,
    dispatcher,
    logger,
    events,
  });
  const mlopsManager = mlops
    ? new TokenManager({
        kind: 'mlops',
        tokenUrl: auth.tokenUrl,
        grant: { type: 'password', clientId: mlops.clientId, username: mlops.username, password: mlops.password },
        refreshBeforeMs,
        dispatcher,
        logger,
        events,
      })
    : inference;
  return { inference, mlops: mlopsManager };
}
