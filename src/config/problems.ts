import type { ErrorObject } from 'ajv';

// Config problems: every one found, each with the path it is at, reported at once; secret values never shown.
export interface ConfigProblem {
  path: string;
  message: string;
}

export class ConfigError extends Error {
  readonly code = 'GW_CONFIG_INVALID';
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[], source?: string) {
    const where = source ? ` in ${source}` : '';
    super(
      `invalid configuration${where} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p.path || '(root)'}: ${p.message}`).join('\n'),
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** "/pipelines/0/timeoutMs" -> "pipelines[0].timeoutMs" */
function toPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), '');
}

/** Paths whose values are secrets (or may embed one, like a Redis URL with a password): never echoed. */
const SECRET_PATH = /(secret|password|token|redisurl)$/i;
/** URLs may carry userinfo (refused, but the refusal must not print it): never echoed either. */
const URL_PATH = /(url|endpoint|issuer)$/i;

function shown(path: string, value: unknown): string {
  return SECRET_PATH.test(path) || URL_PATH.test(path) ? '(value hidden)' : JSON.stringify(value);
}

export function describeAjvErrors(errors: ErrorObject[]): ConfigProblem[] {
  const unionPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  const problems: ConfigProblem[] = [];
  for (const error of errors) {
    const path = toPath(error.instancePath);
    if (error.keyword === 'additionalProperties') {
      const key = (error.params as { additionalProperty: string }).additionalProperty;
      problems.push({ path: path ? `${path}.${key}` : key, message: 'unknown key' });
    } else if (error.keyword === 'anyOf') {
      const branches = (error.schema as Array<{ const?: unknown; type?: string }>) ?? [];
      const literals = branches.filter((b) => b.const !== undefined).map((b) => JSON.stringify(b.const));
      const nullable = branches.some((b) => b.type === 'null');
      problems.push({
        path,
        message: literals.length
          ? `must be one of ${literals.join(', ')}`
          : `has an invalid value ${shown(path, error.data)}${nullable ? ' (or leave it null)' : ''}`,
      });
    } else if (unionPaths.has(error.instancePath)) {
      continue; // a failed branch of a union already reported as one problem above
    } else if (error.keyword === 'required') {
      const key = (error.params as { missingProperty: string }).missingProperty;
      problems.push({ path: path ? `${path}.${key}` : key, message: 'is required' });
    } else {
      problems.push({ path, message: `${error.message ?? 'is invalid'} (got ${shown(path, error.data)})` });
    }
  }
  return problems;
}
