// Kubernetes checks for the chart and the examples: rendering with Helm, the sidecar snippet from the chart's
// NOTES, the Kubernetes schemas (kubernetes-models), and whether each probe reaches a gateway listener.
import { join } from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { parseConfigText } from '../../src/config/load.ts';
import { helm } from './helm.ts';
import { ROOT } from './process.ts';
import type { ParsedTree } from './tree.ts';

export const CHART = join(ROOT, 'helm/wallaroo-gateway');

// Rendered manifests are untyped YAML; the tests read them as plain trees.
export type Manifest = ParsedTree;

function valuesArgs(values: string): string[] {
  return values ? ['-f', join(CHART, values)] : [];
}

// Helm's output per argument list, so the tests of one file render each scenario once (a loaded machine
// makes every helm run cost seconds). Callers get fresh trees, free to modify.
const outputs = new Map<string, Promise<string>>();
function helmOnce(args: string[]): Promise<string> {
  const key = JSON.stringify(args);
  let output = outputs.get(key);
  if (!output) {
    output = helm(args);
    outputs.set(key, output);
    output.catch(() => outputs.delete(key));
  }
  return output;
}

export async function render(values: string, extra: string[] = []): Promise<Manifest[]> {
  const text = await helmOnce(['template', 'gw', CHART, ...valuesArgs(values), ...extra]);
  return parseAllDocuments(text).map((d) => d.toJS() as Manifest).filter(Boolean);
}

/** The gateway config a render puts in its ConfigMap. */
export async function renderedConfig(values: string, extra: string[] = []): Promise<string> {
  return (await render(values, extra)).find((m) => m.kind === 'ConfigMap')!.data['config.yaml'] as string;
}

/** Checks a rendered gateway config as the gateway would at start, except reading the pod's secret and CA files. */
export function checkConfigOffline(configYaml: string): void {
  parseConfigText(configYaml, {}, '/', 'the rendered config', { checkFiles: false });
}

/** Sidecar mode's NOTES: the pod-template snippet (initContainers + volumes) between its marker lines. */
export async function sidecarSnippet(values: string): Promise<{ initContainers: Manifest[]; volumes: Manifest[]; notes: string }> {
  // `install --dry-run=client` renders NOTES.txt without a cluster (`template` does not render it).
  const text = await helmOnce(['install', 'gw', CHART, ...valuesArgs(values), '--dry-run=client']);
  const notes = text.slice(text.indexOf('NOTES:'));
  const block = /^# --- pod template \(spec\.template\.spec\) ---\n([\s\S]*?)^# --- end ---$/m.exec(notes)?.[1];
  if (!block) throw new Error(`no pod-template snippet in the NOTES:\n${notes}`);
  const snippet = parseYaml(block) as { initContainers: Manifest[]; volumes: Manifest[] };
  return { ...snippet, notes };
}

const MODELS: Record<string, () => Promise<Record<string, unknown>>> = {
  v1: () => import('kubernetes-models/v1'),
  'apps/v1': () => import('kubernetes-models/apps/v1'),
  'policy/v1': () => import('kubernetes-models/policy/v1'),
  'autoscaling/v2': () => import('kubernetes-models/autoscaling/v2'),
  'networking.k8s.io/v1': () => import('kubernetes-models/networking.k8s.io/v1'),
  'monitoring.coreos.com/v1': () => import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1'),
};

/** Validates a manifest against its Kubernetes (or Prometheus Operator) schema; throws naming what is wrong. */
export async function validateKubernetes(manifest: Manifest): Promise<void> {
  const where = `${manifest.apiVersion} ${manifest.kind} ${manifest.metadata?.name ?? '(no name)'}`;
  const load = MODELS[manifest.apiVersion as string];
  if (!load) throw new Error(`${where}: no schema known for apiVersion ${manifest.apiVersion}`);
  const Model = (await load())[manifest.kind as string] as (new (data: Manifest) => { validate(): void }) | undefined;
  if (!Model) throw new Error(`${where}: no schema known for kind ${manifest.kind}`);
  try {
    new Model(manifest).validate();
  } catch (error) {
    throw new Error(`${where}: ${(error as Error).message}`);
  }
}

interface Listener {
  name: string;
  host: string;
  port: number;
  paths: string[];
}

/** The gateway's listeners for a config as the gateway itself reads it (its defaults, PORT from the container env). */
export function listenersOf(configYaml: string, env: Record<string, string>): Listener[] {
  const config = parseConfigText(configYaml, env, '/', 'rendered config', { checkFiles: false });
  const listeners: Listener[] = [{ name: 'traffic', host: config.server.host, port: config.server.port, paths: ['/healthz', '/readyz', '/pipelines'] }];
  if (config.metrics.port !== null) listeners.push({ name: 'metrics', host: config.metrics.host, port: config.metrics.port, paths: ['/healthz', '/readyz', '/metrics'] });
  return listeners;
}

const isLoopback = (host: string) => host === 'localhost' || host === '::1' || host === '[::1]' || host.startsWith('127.');

/**
 * Every probe of the container: no httpGet.host (that field is for host-network pods: the kubelet would probe
 * the node), and its port is one a gateway listener binds on a non-loopback address, serving the probed path.
 * Returns what is wrong, one line each (empty when every probe can reach the gateway).
 */
export function unreachableProbes(container: Manifest, configYaml: string): string[] {
  const env = Object.fromEntries(((container.env ?? []) as Array<{ name: string; value?: string }>).map((e) => [e.name, e.value ?? '']));
  const listeners = listenersOf(configYaml, env);
  const problems: string[] = [];
  let probes = 0;
  for (const kind of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
    const probe = container[kind] as Manifest | undefined;
    if (!probe) continue;
    probes++;
    const get = probe.httpGet as Manifest | undefined;
    if (!get) {
      problems.push(`${container.name} ${kind}: not an httpGet probe`);
      continue;
    }
    if (get.host !== undefined) problems.push(`${container.name} ${kind}: httpGet.host ${get.host} (the kubelet would probe that address, not the pod)`);
    const port = typeof get.port === 'number'
      ? get.port
      : ((container.ports ?? []) as Array<{ name?: string; containerPort: number }>).find((p) => p.name === get.port)?.containerPort;
    if (port === undefined) {
      problems.push(`${container.name} ${kind}: port ${get.port} is not a port of the container`);
      continue;
    }
    const listener = listeners.find((l) => l.port === port);
    if (!listener) problems.push(`${container.name} ${kind}: port ${port} is not a gateway listener (${listeners.map((l) => `${l.name} ${l.host}:${l.port}`).join(', ')})`);
    else if (isLoopback(listener.host)) problems.push(`${container.name} ${kind}: port ${port} is the ${listener.name} listener on ${listener.host}, which the kubelet cannot reach`);
    else if (!listener.paths.includes(get.path)) problems.push(`${container.name} ${kind}: ${get.path} is not served on the ${listener.name} listener`);
  }
  if (probes === 0) problems.push(`${container.name}: no probes`);
  return problems;
}
