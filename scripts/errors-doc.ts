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
writeFileSync(new URL('../docs/errors.md', import.meta.url), text);
