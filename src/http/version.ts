import { readFileSync } from 'node:fs';

/** The gateway's version, from package.json (shown in OpenAPI documents and the User-Agent sent to Wallaroo). */
export const GATEWAY_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
