// The two MLOps API commands the gateway uses. Wallaroo documents the MLOps API as taking a user's token
// (password grant); the client_credentials token is the "Pipeline Inference API Token". The simulator
// refuses a service account's token here unless told otherwise (the refusal itself was never recorded).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SimulatorControl } from './control.ts';
import { authenticate, sendError } from './platform.ts';

function admit(control: SimulatorControl, command: string, request: FastifyRequest, reply: FastifyReply): boolean {
  control.counts.mlops++;
  control.emit('mlops-request', { command });
  const caller = authenticate(control, request, reply);
  if (!caller) return false;
  if (caller.serviceAccount && !control.mlopsAcceptsServiceAccountTokens) {
    sendError(control, reply, 'mlops-needs-user-token', `the MLOps API needs a user token; ${caller.username} is a service account`);
    return false;
  }
  return true;
}

function jsonBody(request: FastifyRequest): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(String(request.body ?? '{}') || '{}');
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function registerMlops(app: FastifyInstance, control: SimulatorControl): void {
  app.post('/v1/api/workspaces/list', async (request, reply) => {
    if (!admit(control, '/workspaces/list', request, reply)) return reply;
    const workspaces = new Map<number, { id: number; name: string; pipelines: number[] }>();
    for (const state of control.pipelines.values()) {
      const entry = workspaces.get(state.workspace.id) ?? { id: state.workspace.id, name: state.workspace.name, pipelines: [] };
      entry.pipelines.push(state.id);
      workspaces.set(entry.id, entry);
    }
    // One model per simulated pipeline, numbered as its pipeline.
    return {
      workspaces: [...workspaces.values()].map((w) => ({
        id: w.id, name: w.name, created_at: '2025-07-11T16:51:50.885751+00:00', created_by: '13486fc4-a1a7-43e2-9233-62177d5f739b',
        archived: false, models: w.pipelines, pipelines: w.pipelines,
      })),
    };
  });

  app.post('/v1/api/admin/get_pipeline_external_url', async (request, reply) => {
    if (!admit(control, '/admin/get_pipeline_external_url', request, reply)) return reply;
    const body = jsonBody(request);
    if (!body) return sendError(control, reply, 'mlops-bad-request', 'the body must be a JSON object');
    const state = typeof body.pipeline_name === 'string' ? control.pipelines.get(body.pipeline_name) : undefined;
    if (!state || state.workspace.id !== body.workspace_id) {
      return sendError(control, reply, 'mlops-not-found', `pipeline ${String(body.pipeline_name)} not found in workspace ${String(body.workspace_id)}`);
    }
    return { url: control.inferenceUrl(state.pipeline.name) };
  });
}
