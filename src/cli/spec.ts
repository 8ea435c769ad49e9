import { pipelineOpenApiYaml } from '../openapi/openapi.ts';
import { loadConfigOrReport } from './config-file.ts';
import { reportError } from './report.ts';

/** `spec PIPELINE --config FILE`: the pipeline route's OpenAPI 3.1.1 YAML on stdout. */
export function specCommand(name: string | undefined, configFile: string | undefined, env: NodeJS.ProcessEnv, out: NodeJS.WritableStream, err: NodeJS.WritableStream): number {
  if (!name || !configFile) {
    return reportError(err, 'spec needs PIPELINE and --config FILE (or WALLAROO_GATEWAY_CONFIG), e.g. wallaroo-gateway spec ccfraud --config gateway.yaml', 2);
  }
  // The document describes the route, never calls Wallaroo: the secrets need not be there (an unset variable, a
  // file that exists only in the pod).
  const config = loadConfigOrReport(configFile, env, err, { needSecrets: false });
  if (!config) return 1;
  const pipeline = config.pipelines.find((p) => p.name === name);
  if (!pipeline) {
    return reportError(err, `GW_PIPELINE_NOT_FOUND: no pipeline named ${JSON.stringify(name)} in ${configFile} (configured: ${config.pipelines.map((p) => p.name).join(', ')})`, 1);
  }
  out.write(pipelineOpenApiYaml(pipeline));
  return 0;
}
