// `${VAR}` and `${VAR:-default}` substitution over the parsed YAML tree (never over the text, so a value from
// the environment cannot inject YAML structure). `$${` escapes a literal `${`. Every missing variable is
// collected, so the operator sees them all at once.

export interface MissingVariable {
  path: string;
  variable: string;
}

const PLACEHOLDER = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function interpolateString(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
  onMissing: (variable: string) => void,
): string {
  return text.replace(PLACEHOLDER, (whole, name: string | undefined, fallback: string | undefined) => {
    if (whole === '$${') return '${';
    const value = env[name as string];
    if (fallback !== undefined) return value === undefined || value === '' ? fallback : value;
    if (value === undefined) {
      onMissing(name as string);
      return '';
    }
    return value;
  });
}

export function interpolateTree(
  tree: unknown,
  env: Readonly<Record<string, string | undefined>>,
): { value: unknown; missing: MissingVariable[] } {
  const missing: MissingVariable[] = [];
  const walk = (node: unknown, path: string): unknown => {
    if (typeof node === 'string') {
      return interpolateString(node, env, (variable) => missing.push({ path, variable }));
    }
    if (Array.isArray(node)) return node.map((item, index) => walk(item, `${path}[${index}]`));
    if (node !== null && typeof node === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(node)) out[key] = walk(child, path ? `${path}.${key}` : key);
      return out;
    }
    return node;
  };
  return { value: walk(tree, ''), missing };
}
