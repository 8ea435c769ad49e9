import { accessSync, constants as fsConstants, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import type { ConfigProblem } from './problems.ts';
import type { SecretRef } from './types.ts';

// Secrets: given inline (from the environment, usually) or as a mounted file re-read at every use, so a rotated
// Kubernetes Secret (a symlink swap) is picked up without a restart.

/** Reads a secret's current value; files are read at every call so a rotated (symlink-swapped) secret is picked up. */
export async function readSecret(ref: SecretRef): Promise<string> {
  if (ref.source === 'inline') return ref.value;
  return (await readFile(ref.path, 'utf8')).replace(/\r?\n$/, '');
}

/**
 * How much of a secret the config load checks: `read` (its file is readable and not empty), `named` (its file is
 * named but not read: `check-config --offline`), `unneeded` (nothing: a command that uses no secret, like `spec`;
 * a secret without a value becomes an empty placeholder, never to be used).
 */
export type SecretCheck = 'read' | 'named' | 'unneeded';

export function secretRef(
  inline: string | undefined,
  file: string | undefined,
  path: string,
  baseDir: string,
  problems: ConfigProblem[],
  required: boolean,
  check: SecretCheck = 'read',
): SecretRef | null {
  if (inline !== undefined && file !== undefined) {
    problems.push({ path: `${path}File`, message: `set ${path.split('.').pop()} or ${path.split('.').pop()}File, not both` });
    return null;
  }
  if (file !== undefined) {
    const absolute = isAbsolute(file) ? file : resolve(baseDir, file);
    if (check !== 'read') return { source: 'file', path: absolute };
    try {
      accessSync(absolute, fsConstants.R_OK);
      if (readFileSync(absolute, 'utf8').trim() === '') problems.push({ path: `${path}File`, message: `file ${absolute} is empty` });
    } catch (error) {
      problems.push({ path: `${path}File`, message: `cannot read ${absolute} (${(error as NodeJS.ErrnoException).code ?? 'error'})` });
    }
    return { source: 'file', path: absolute };
  }
  if (inline !== undefined && inline !== '') return { source: 'inline', value: inline };
  if (check === 'unneeded') return required ? { source: 'inline', value: '' } : null;
  // Already reported when it came from a missing environment variable.
  if (required && !problems.some((p) => p.path === path)) problems.push({ path, message: `is required (or ${path.split('.').pop()}File)` });
  return null;
}
