import { GatewayError } from '../errors.ts';
import type { Bounds } from '../http/deadline.ts';
import type { Token, TokenManager } from './token-manager.ts';

// The one 401 policy, for inference and the MLOps API alike: send with the current token; when Wallaroo refuses
// it (401), replay with its replacement. Never a loop: at most two replays, the second only when the first
// replacement's fetch began before the refusal (it may predate a key rotation); a token fetched after the refusal
// and refused too means credentials or permissions, not expiry, and ends the request with a 502.

export interface TokenAttempt<T> {
  /** Sends once with `token`; `replay` counts the replays before this attempt. */
  send(token: string, replay: number): Promise<T>;
  refused(answer: T): boolean;
  /** Frees a refused answer (its body is not needed). */
  discard(answer: T): Promise<void>;
  /** False when the request can no longer be sent again (a streamed body already gone). */
  canReplay(): boolean;
  /** What the 502 says about whom Wallaroo refused (e.g. "pipeline ccfraud"). */
  subject: string;
}

const MAX_REPLAYS = 2;

export async function withToken<T>(tokens: TokenManager, bounds: Bounds, attempt: TokenAttempt<T>): Promise<T> {
  let token: Token = await tokens.get(bounds);
  let fresh = false;
  for (let replays = 0; ; replays++) {
    const answer = await attempt.send(token.value, replays);
    if (!attempt.refused(answer)) {
      tokens.accepted(token);
      return answer;
    }
    await attempt.discard(answer);
    if (fresh) {
      tokens.refusedWhileFresh(token);
      throw new GatewayError('GW_UPSTREAM_UNAUTHORIZED', `${attempt.subject}: Wallaroo refused a token fetched after it refused the previous one`);
    }
    if (replays >= MAX_REPLAYS) throw new GatewayError('GW_UPSTREAM_UNAUTHORIZED', `${attempt.subject}: Wallaroo refused ${replays + 1} tokens in a row`);
    if (!attempt.canReplay()) {
      tokens.dropRefused(token); // the next request gets a new token
      throw new GatewayError('GW_UPSTREAM_UNAUTHORIZED', `${attempt.subject}: Wallaroo refused the token and the body was too large to replay; the token is renewed, retry`, {
        headers: { 'retry-after': '0' },
      });
    }
    const replacement = await tokens.replacementFor(token, bounds, replays > 0);
    if (!replacement) {
      throw new GatewayError('GW_UPSTREAM_UNAUTHORIZED', `${attempt.subject}: Wallaroo keeps refusing the gateway's token (credentials or permissions); no new token is fetched for a while`, {
        headers: { 'retry-after': '10' },
      });
    }
    token = replacement.token;
    fresh = replacement.fresh;
  }
}
