// The layering of docs/ARCHITECTURE.md, checked in `npm test` (npm run lint:layers): each room may import only
// the rooms below it, so no directory imports one that imports it back. `http/`, `config/` and `errors.ts` are
// the ground floor; the simulator is a separate program that uses the converter and the leaf helpers.
const room = (name) => `^src/${name}(/|\\.ts$)`;
const below = {
  cli: ['server', 'proxy', 'batching', 'callers', 'limits', 'auth', 'discovery', 'convert', 'observability', 'openapi', 'ui', 'simulator', 'config', 'errors', 'http'],
  server: ['proxy', 'batching', 'callers', 'limits', 'auth', 'discovery', 'convert', 'observability', 'openapi', 'ui', 'config', 'errors', 'http'],
  proxy: ['batching', 'callers', 'limits', 'auth', 'discovery', 'convert', 'observability', 'openapi', 'config', 'errors', 'http'],
  batching: ['limits', 'auth', 'discovery', 'convert', 'observability', 'config', 'errors', 'http'],
  callers: ['limits', 'observability', 'config', 'errors', 'http'],
  ui: ['observability', 'openapi', 'convert', 'config', 'errors', 'http'],
  openapi: ['convert', 'config', 'errors', 'http'],
  discovery: ['auth', 'config', 'errors', 'http'],
  observability: ['convert', 'config', 'errors', 'http'],
  limits: ['config', 'errors', 'http'],
  auth: ['config', 'errors', 'http'],
  convert: ['config', 'errors', 'http'],
  simulator: ['convert', 'config', 'errors', 'http'],
  config: ['errors', 'http'],
  http: ['errors'],
  errors: [],
};
const rooms = Object.keys(below);
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'modules import in one direction only', from: {}, to: { circular: true } },
    ...rooms.map((name) => ({
      name: `layering-${name}`,
      severity: 'error',
      comment: `src/${name} may import only: ${below[name].join(', ') || 'nothing of the gateway'} (docs/ARCHITECTURE.md)`,
      from: { path: room(name) },
      to: { path: '^src/', pathNot: [room(name), ...below[name].map(room)] },
    })),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
