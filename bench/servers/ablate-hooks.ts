// Module hooks for the `headers` ablation (see ablate.ts): dist/proxy/headers.js is loaded with its two header
// functions replaced by ones that copy only what the call needs, so the hygiene's cost per request shows.

interface LoadResult {
  format?: string;
  source?: string | ArrayBuffer | Uint8Array;
  shortCircuit?: boolean;
}
type NextLoad = (url: string, context: object) => Promise<LoadResult>;

const REPLACEMENTS = `
export function upstreamRequestHeaders(_incoming, options) {
  const headers = { authorization: 'Bearer ' + options.token, 'content-type': options.contentType, accept: options.accept, 'x-request-id': options.requestId };
  if (options.contentLength !== undefined) headers['content-length'] = String(options.contentLength);
  return headers;
}
export function callerResponseHeaders(upstream, options) {
  const headers = { 'content-type': options.contentType ?? upstream['content-type'], 'x-request-id': options.requestId };
  if (options.upstreamStatus >= 400) headers['x-gateway-upstream-status'] = String(options.upstreamStatus);
  return headers;
}
`;

export async function load(url: string, context: object, nextLoad: NextLoad): Promise<LoadResult> {
  const result = await nextLoad(url, context);
  if (!url.endsWith('/dist/proxy/headers.js')) return result;
  let source = Buffer.from(result.source as Uint8Array).toString('utf8');
  for (const name of ['upstreamRequestHeaders', 'callerResponseHeaders']) {
    const declaration = `export function ${name}(`;
    if (!source.includes(declaration)) throw new Error(`bench ablation: ${name} not found in ${url}; update bench/servers/ablate-hooks.ts`);
    source = source.replace(declaration, `function original_${name}(`);
  }
  return { ...result, source: `${source}\n${REPLACEMENTS}` };
}
