import type { GatewayConfig } from './types.ts';
import { insecureTransportWarning } from './url-safety.ts';

// Valid but probably wrong: what check-config prints as warnings and the gateway logs at start.

export function configAdvice(config: GatewayConfig): string[] {
  const advice: string[] = [];
  const discovered = config.pipelines.filter((p) => p.url === null).map((p) => p.name);
  if (config.wallaroo.mlops === null && discovered.length > 0) {
    advice.push(
      `wallaroo.mlops: not set, so discovery of ${discovered.join(', ')} calls the MLOps API with the client-credentials ` +
        'token, which Wallaroo documents as its inference token; the MLOps API needs a user token on most installs. ' +
        'Set wallaroo.mlops (username and password of a Wallaroo user), or an explicit url per pipeline.',
    );
  }
  const { wallaroo } = config;
  if (wallaroo.allowInsecure) {
    const warning = insecureTransportWarning({
      url: new URL(wallaroo.url),
      tokenUrl: new URL(wallaroo.auth.tokenUrl),
      rejectUnauthorized: wallaroo.tls.rejectUnauthorized,
      allowInsecure: true,
    });
    if (warning) advice.push(warning);
  }
  return advice;
}
