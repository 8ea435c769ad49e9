// What every inference-plane call meets before a model runs: the token check, the deployment behind the URL
// (stable deploy ids; not found while undeployed, 503 while activating), injected faults and latency.
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PipelineState, SimulatorControl } from './control.ts';
import { authenticate, sendError } from './platform.ts';

export async function admitInference(control: SimulatorControl, request: FastifyRequest, reply: FastifyReply): Promise<PipelineState | null> {
  const { deployment, pipeline } = request.params as { deployment: string; pipeline: string };
  control.counts.inference++;
  reply.raw.once('close', () => {
    // The caller (the gateway) hung up before the answer was written: it aborted the request.
    if (!reply.raw.writableFinished) {
      control.counts.abortedByCaller++;
      control.emit('caller-aborted', { pipeline });
    }
  });
  reply.raw.once('finish', () => control.emit('inference-answered', { pipeline, status: reply.raw.statusCode }));
  const body = (request.body as Buffer | undefined) ?? Buffer.alloc(0);
  control.seen.push({ method: request.method, url: request.url, headers: { ...request.headers }, bodyBytes: body.length });
  if (control.seen.length > 100) control.seen.shift();
  control.emit('inference-received', { pipeline, url: request.url });
  if (!authenticate(control, request, reply)) return null;
  const state = control.pipelines.get(pipeline);
  if (!state || deployment !== `${pipeline}-${state.deployId}` || !state.deployed) {
    sendError(control, reply, 'deployment-not-found');
    return null;
  }
  if (Date.now() < state.activeFrom) {
    sendError(control, reply, 'pipeline-activating');
    return null;
  }
  if (control.inferenceHold !== null) await control.inferenceHold;
  const fault = control.inferenceFaults.shift();
  if (control.latencyMs > 0) await sleep(control.latencyMs);
  if (fault) {
    if (fault.body !== undefined) {
      void reply.code(fault.status).headers(fault.headers ?? {}).send(fault.body);
    } else {
      const kind = fault.status === 503 ? 'pipeline-activating' : 'internal';
      const answer = control.profile.error(kind);
      void reply.code(fault.status).header('content-type', answer.contentType).headers(fault.headers ?? {}).send(Buffer.from(answer.body));
    }
    return null;
  }
  return state;
}
