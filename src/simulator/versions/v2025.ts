// Wallaroo 2025 (2025.1/2025.2), as the main branch of WallarooLabs/Wallaroo_Tutorials recorded it
// (test/fixtures/wallaroo-recorded/2025/):
// - Keycloak on the API host; sdk-client tokens live 7200 s on the instance most notebooks ran on (one other
//   instance issued 3600 s); the confidential client as in 2023.4 (not re-recorded).
// - Answers as 2024.2 (anomaly, metadata); Arrow answers assumed unchanged (the recorded file is 2024's).
// - Errors as the generated OpenAPI specs document them: {code, status: "error", error, source} with 400,
//   401 "Jwt is missing", 404 "Deployment not found", 409 for the wrong endpoint type, 500, 503 while a
//   pipeline activates. `dataset.flatten` is documented.
// - OpenAI-compatible endpoints (streamed chunks in openai.ts).
// Not recorded (assumed): the 401 wording for an invalid or expired token (Envoy's, as "Jwt is missing"),
// and the MLOps API's refusal of a service-account token (403; the docs say it needs a user token).
import type { VersionProfile, WallarooErrorAnswer, WallarooErrorKind } from './profile.ts';
import { ANOMALY, FLATTENED_TIME, metadataField, specError, TIME } from './shared.ts';

const ACTIVATING = 'The resources required to run this request are not available. Please check the inference endpoint status and try again';
const HELP = 'For additional help contact support@wallaroo.ai or your Wallaroo technical representative.';

function specErrorFor(kind: WallarooErrorKind, detail = ''): WallarooErrorAnswer {
  switch (kind) {
    case 'jwt-missing':
      return specError(401, 'Jwt is missing', 'platform');
    case 'jwt-invalid':
      return specError(401, 'Jwt verification fails', 'platform');
    case 'jwt-expired':
      return specError(401, 'Jwt is expired', 'platform');
    case 'deployment-not-found':
      return specError(404, 'Deployment not found', 'platform');
    case 'pipeline-activating':
      return specError(503, ACTIVATING, 'engine');
    case 'bad-input':
      return specError(400, detail, 'engine');
    case 'unsupported-media-type':
      return specError(415, detail, 'engine');
    case 'internal':
      return specError(500, 'Internal processing error', 'engine');
    case 'native-call-on-openai-pipeline':
      return specError(409, `Inference failed. Please apply the appropriate OpenAI extensions to the inference endpoint. ${HELP}`, 'engine');
    case 'openai-call-on-native-pipeline':
      return specError(409, `Inference failed. Please apply the appropriate OpenAI configurations to the models deployed in this pipeline. ${HELP}`, 'engine');
    case 'mlops-needs-user-token':
      return specError(403, detail, 'platform');
    case 'mlops-not-found':
      return specError(404, detail, 'platform');
    case 'mlops-bad-request':
      return specError(400, detail, 'platform');
  }
}

export const profile2025: VersionProfile = {
  version: '2025',
  keycloakOnOwnHost: false,
  lifetimes: { clientCredentials: 3600, confidentialPassword: 3600, publicPassword: 7200, refresh: 1800 },
  checkColumn: 'anomaly',
  metadataFields: ['last_model', 'pipeline_version', 'elapsed', 'dropped', 'partition'],
  arrowMetadataFields: ['last_model', 'pipeline_version', 'elapsed', 'dropped', 'partition'],
  pipelineVersionInAnswer: true,
  arrow: () => ({
    time: TIME,
    check: ANOMALY,
    metadata: metadataField('uint64', ['last_model', 'pipeline_version', 'elapsed', 'dropped', 'partition']),
    flattenedTime: FLATTENED_TIME,
    flattenedCheck: null,
    flattenedInputNotNull: false,
  }),
  datasetFlatten: true,
  openAi: true,
  error: specErrorFor,
};
