import { createHash } from 'node:crypto';

// The status page: one HTML document with its style and script inline (no build step, no external assets, so
// it works offline and behind any proxy), allowed by a Content-Security-Policy that names their hashes. The
// script polls status.json (relative, so the page works on the main or the metrics listener) and writes
// every value with textContent: pipeline names and error messages are never parsed as HTML.

/** How often the page refreshes its numbers. */
export const REFRESH_MS = 2_000;

const STYLE = `
:root { color-scheme: light dark; --bg: #f6f7f9; --card: #fff; --text: #1d2330; --muted: #687083; --line: #e1e4ea;
  --ok: #12805c; --ok-bg: #dcf5ea; --warn: #9a6300; --warn-bg: #fdf0d2; --bad: #b3261e; --bad-bg: #fbe1df; }
@media (prefers-color-scheme: dark) { :root { --bg: #14171c; --card: #1c2027; --text: #e4e7ec; --muted: #98a0ae;
  --line: #2c313a; --ok: #5fd3a4; --ok-bg: #163a2d; --warn: #f3bf5a; --warn-bg: #3d3116; --bad: #ff8a80; --bad-bg: #43201e; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--text); }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: .25rem 1.25rem; padding: 1rem 1.5rem; background: var(--card); border-bottom: 1px solid var(--line); }
header h1 { font-size: 1.15rem; margin: 0; }
header .facts { display: flex; flex-wrap: wrap; gap: .25rem 1.25rem; color: var(--muted); }
header nav { margin-left: auto; display: flex; gap: 1rem; }
a { color: inherit; }
main { padding: 1rem 1.5rem 2rem; display: grid; gap: 1rem; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; overflow-x: auto; }
h2 { font-size: .95rem; margin: 0; padding: .7rem 1rem; border-bottom: 1px solid var(--line); }
table { border-collapse: collapse; width: 100%; }
th, td { padding: .45rem .75rem; text-align: left; white-space: nowrap; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: .8rem; }
tr:last-child td { border-bottom: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.error { white-space: normal; min-width: 14rem; max-width: 30rem; }
.sub { display: block; color: var(--muted); font-size: .8rem; }
.badge { display: inline-block; padding: 0 .5rem; border-radius: 999px; font-size: .8rem; font-weight: 600; }
.good { color: var(--ok); background: var(--ok-bg); }
.warn { color: var(--warn); background: var(--warn-bg); }
.bad { color: var(--bad); background: var(--bad-bg); }
.muted { color: var(--muted); }
#connection.bad { padding: .1rem .5rem; border-radius: 4px; }
footer { color: var(--muted); padding: 0 1.5rem 1.5rem; font-size: .8rem; }
`;

const SCRIPT = `
'use strict';
const REFRESH_MS = ${REFRESH_MS};
const $ = (id) => document.getElementById(id);

function cell(text, options) {
  const td = document.createElement('td');
  const o = options || {};
  if (o.className) td.className = o.className;
  if (o.field) td.dataset.field = o.field;
  if (o.badge) {
    const span = document.createElement('span');
    span.className = 'badge ' + o.badge;
    span.textContent = text;
    td.appendChild(span);
  } else {
    td.textContent = text;
  }
  if (o.sub) {
    const sub = document.createElement('span');
    sub.className = 'sub';
    if (o.subField) {
      const value = document.createElement('span');
      value.dataset.field = o.subField;
      value.textContent = o.subValue;
      sub.append(value, o.sub);
    } else {
      sub.textContent = o.sub;
    }
    td.appendChild(sub);
  }
  return td;
}

const dash = '\\u2013';
function ms(value) {
  if (value === null || value === undefined) return dash;
  if (value < 10) return value.toFixed(2) + ' ms';
  if (value < 1000) return value.toFixed(1) + ' ms';
  return (value / 1000).toFixed(2) + ' s';
}
function rate(value) { return value === null || value === undefined ? dash : value.toFixed(value < 10 ? 2 : 1) + '/s'; }
function ratio(value) { return value === null || value === undefined ? dash : (value * 100).toFixed(value < 0.1 ? 2 : 1) + ' %'; }
function duration(seconds) {
  if (seconds === null || seconds === undefined) return dash;
  const s = Math.abs(Math.round(seconds));
  const text = s < 120 ? s + ' s' : s < 7200 ? Math.round(s / 60) + ' min' : (s / 3600).toFixed(1) + ' h';
  return seconds < 0 ? text + ' ago' : text;
}
function when(epochMs) { return new Date(epochMs).toLocaleTimeString(); }
const BREAKER = { closed: 'good', 'half-open': 'warn', open: 'bad' };

function renderGateway(g) {
  $('version').textContent = 'v' + g.version;
  $('uptime').textContent = 'up ' + duration(g.uptimeSeconds);
  const state = $('state');
  state.textContent = g.draining ? 'draining' : 'serving';
  state.className = 'badge ' + (g.draining ? 'warn' : 'good');
  $('tracing').textContent = g.tracing.enabled ? 'tracing on (' + Math.round(g.tracing.sampleRatio * 1000) / 10 + ' % sampled)' : 'tracing off';
  $('window').textContent = g.windowSeconds === null ? 'rates appear after the next refresh' : 'rates and percentiles over the last ' + (g.windowSeconds < 10 ? g.windowSeconds.toFixed(1) : Math.round(g.windowSeconds)) + ' s';
}

function renderTokens(tokens) {
  const rows = [];
  for (const t of tokens) {
    const tr = document.createElement('tr');
    tr.dataset.token = t.kind;
    tr.appendChild(cell(t.kind));
    tr.appendChild(cell(t.valid ? 'valid' : 'none', { badge: t.valid ? 'good' : 'bad', field: 'valid' }));
    const expires = t.expiresAt === null ? dash : new Date(t.expiresAt * 1000).toLocaleTimeString();
    tr.appendChild(cell(expires, { field: 'expires', sub: t.expiresInSeconds === null ? '' : (t.expiresInSeconds >= 0 ? 'in ' : 'expired ') + duration(t.expiresInSeconds) }));
    tr.appendChild(t.lastError
      ? cell(t.lastError.message, { className: 'error', field: 'lastError', sub: when(t.lastError.at) })
      : cell('none', { className: 'error muted', field: 'lastError' }));
    rows.push(tr);
  }
  $('tokens').replaceChildren(...rows);
}

function renderPipelines(pipelines) {
  const batching = pipelines.some((p) => p.batching !== null);
  $('batching-head').hidden = !batching;
  const rows = [];
  for (const p of pipelines) {
    const r = p.requests;
    const tr = document.createElement('tr');
    tr.dataset.pipeline = p.name;
    tr.appendChild(cell(p.name, { field: 'name', sub: (p.workspace === null ? '' : p.workspace + ' / ') + p.pipeline }));
    tr.appendChild(cell(p.urlHost || 'not resolved yet', { field: 'host', sub: p.cacheAgeSeconds === null ? '' : 'resolved ' + duration(-p.cacheAgeSeconds) }));
    tr.appendChild(cell(rate(r.perSecond), { className: 'num', field: 'rate', subField: 'requests', subValue: String(r.total), sub: r.total === 1 ? ' request' : ' requests' }));
    tr.appendChild(cell(ratio(r.errorRatio), { className: 'num', field: 'errors' }));
    tr.appendChild(cell(ms(r.p50Ms), { className: 'num', field: 'p50' }));
    tr.appendChild(cell(ms(r.p99Ms), { className: 'num', field: 'p99' }));
    tr.appendChild(cell(ms(r.engineP50Ms), { className: 'num', field: 'engine' }));
    tr.appendChild(cell(p.breaker, { badge: BREAKER[p.breaker] || 'warn', field: 'breaker' }));
    tr.appendChild(cell(p.active + ' / ' + p.maxConcurrency, { className: 'num', field: 'inflight', subField: 'queue', subValue: p.queued + ' / ' + p.maxQueue, sub: ' queued \u00b7 ' + p.inflight + ' in gateway' }));
    tr.appendChild(p.rateLimit
      ? cell(p.rateLimit.max + ' per ' + p.rateLimit.timeWindowMs / 1000 + ' s', { field: 'rateLimit', sub: p.rateLimit.limitedTotal + ' limited (' + rate(p.rateLimit.limitedPerSecond) + ')' })
      : cell('none', { className: 'muted', field: 'rateLimit' }));
    if (batching) {
      tr.appendChild(cell(p.batching === null ? 'off' : Object.entries(p.batching).map(([k, v]) => k + ' ' + v).join(', '), { field: 'batching' }));
    }
    const e = p.lastError;
    tr.appendChild(e
      ? cell((e.code ? e.code + ': ' : '') + e.message, { className: 'error', field: 'lastError', sub: when(e.at) + ' \\u00b7 HTTP ' + e.status })
      : cell('none', { className: 'error muted', field: 'lastError' }));
    rows.push(tr);
  }
  $('pipelines').replaceChildren(...rows);
}

async function refresh() {
  const connection = $('connection');
  try {
    const response = await fetch('status.json', { cache: 'no-store', headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error('HTTP ' + response.status);
    const status = await response.json();
    renderGateway(status.gateway);
    renderTokens(status.tokens);
    renderPipelines(status.pipelines);
    connection.textContent = 'updated ' + when(status.gateway.generatedAt);
    connection.className = '';
    document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
  } catch (error) {
    connection.textContent = 'cannot reach the gateway (' + error.message + '); retrying';
    connection.className = 'bad';
  } finally {
    setTimeout(refresh, REFRESH_MS);
  }
}
refresh();
`;

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** The page; `apiLinks` when it is served beside the API (not on the metrics listener). */
export const statusPageHtml = (apiLinks: boolean): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wallaroo-gateway status</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>wallaroo-gateway</h1>
  <div class="facts"><span id="version"></span><span id="uptime"></span><span id="state" class="badge"></span><span id="tracing"></span><span id="connection">loading</span></div>
  <nav>${apiLinks ? '<a href="docs/">API docs</a><a href="pipelines">pipelines JSON</a>' : '<a href="metrics">metrics</a>'}<a href="status.json">status JSON</a></nav>
</header>
<main>
  <section>
    <h2>Pipelines <span id="window" class="muted"></span></h2>
    <table>
      <thead><tr><th>pipeline</th><th>Wallaroo host</th><th>rate</th><th>errors (5xx)</th><th>p50</th><th>p99</th><th>engine p50</th><th>breaker</th><th>calls to Wallaroo</th><th>rate limit</th><th id="batching-head" hidden>batching</th><th>last error</th></tr></thead>
      <tbody id="pipelines"></tbody>
    </table>
  </section>
  <section>
    <h2>Tokens</h2>
    <table>
      <thead><tr><th>kind</th><th>state</th><th>expires</th><th>last error</th></tr></thead>
      <tbody id="tokens"></tbody>
    </table>
  </section>
</main>
<footer>Latency is the whole request as callers see it; engine time is what Wallaroo reports in metadata.elapsed. Numbers come from the gateway's Prometheus metrics (/metrics).</footer>
<script>${SCRIPT}</script>
</body>
</html>
`;

/** Only this page's own style and script run; it fetches from its own origin and cannot be framed. */
export const STATUS_PAGE_CSP = [
  "default-src 'none'",
  `style-src ${sha256(STYLE)}`,
  `script-src ${sha256(SCRIPT)}`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
