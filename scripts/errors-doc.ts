import { writeFileSync } from 'node:fs';
import { ERROR_CATALOG } from '../src/errors.ts';

// Regenerates docs/errors.md from src/errors.ts (test/errors/catalog.test.ts checks they agree).
let text = `# Error codes

Every error the gateway itself produces is JSON: \`{"statusCode":502,"code":"GW_...","error":"Bad Gateway","message":"..."}\`,
never a stack trace, never a token or secret. Errors from Wallaroo pass through with their own status and body, plus
\`x-gateway-upstream-status\`. Codes marked 503/429 carry \`Retry-After\`. This file is generated: \`npm run docs:errors\`.

| code | status | cause |
|---|---|---|
`;
for (const [code, { statusCode, summary }] of Object.entries(ERROR_CATALOG)) text += `| \`${code}\` | ${statusCode} | ${summary} |\n`;
text += '\nThe CLI reports configuration problems as `GW_CONFIG_INVALID`, one line per problem with its path, exit code 1.\n';
text += `
## What opens the circuit breaker

The breaker of a pipeline judges Wallaroo, never one caller (src/limits/verdict.ts). After
\`circuitBreaker.failureThreshold\` consecutive **unhealthy** outcomes it opens; **neutral** ones change nothing.

| outcome | verdict |
|---|---|
| 2xx, 3xx | healthy (closes a half-open breaker) |
| transport failure, timeout waiting for Wallaroo (\`GW_UPSTREAM_UNREACHABLE\`, \`GW_UPSTREAM_TIMEOUT\`), unreadable answer (\`GW_UPSTREAM_BAD_RESPONSE\`) | unhealthy |
| 502, 504 from Wallaroo | unhealthy |
| 500 naming a failure of Wallaroo (\`Internal processing error\`, out of memory, unavailable, ...) or saying nothing | unhealthy |
| 500 about the caller's input (\`Error running inference: ...\`, schema, tensor, shape, column) | neutral |
| 400, 401, 403, 404, 409, 413, 415, 422, 429 | neutral (the caller's request or the gateway's token) |
| 503 (a pipeline activating, scale from zero) | neutral; retried within the deadline when Wallaroo's Retry-After is at most 2 s, else passed on with it |
| the caller's own failures: body too slow or too large, caller gone, bad input | neutral |

While half-open, one call is the probe, chosen when it is sent (not when it arrived); a probe whose caller leaves
frees the half-open state at once, and one still out after \`max(1 s, cooldownMs)\` is given up so the next call
probes.
`;
writeFileSync(new URL('../docs/errors.md', import.meta.url), text);
