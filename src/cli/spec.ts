import { ConfigError, loadConfigFile } from '../config/load.ts';
import { pipelineOpenApiYaml } from '../observability/openapi.ts';

/** `spec PIPELINE --config FILE`: the pipeline route's OpenAPI 3.1.1 YAML on stdout. */
export function specCommand(name: string | undefined, configFile: string | undefined, env: NodeJS.ProcessEnv, out: NodeJS.WritableStream, err: NodeJS.WritableStream): number {
  if (!name || !configFile) {
    err.write('usage: wallaroo-gateway spec PIPELINE --config FILE\n');
    return 2;
  }
  try {
    const config = loadConfigFile(configFile, env);
    const pipeline = config.pipelines.find((p) => p.name === name);
    if (!pipeline) {
      err.write(`GW_PIPELINE_NOT_FOUND: no pipeline named ${JSON.stringify(name)} in ${configFile} (configured: ${config.pipelines.map((p) => p.name).join(', ')})\n`);
      return 1;
    }
    out.write(pipelineOpenApiYaml(pipeline));
    return 0;
  } catch (error) {
    if (error instanceof ConfigError) {
      err.write(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
