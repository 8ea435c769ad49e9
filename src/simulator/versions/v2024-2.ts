// Wallaroo 2024.2, as the wallaroo2024.2_tutorials branch of WallarooLabs/Wallaroo_Tutorials recorded it
// (test/fixtures/wallaroo-recorded/2024.2/):
// - Keycloak on the API host (iss https://doc-test.wallaroocommunity.ninja/auth/realms/master).
// - sdk-client tokens live 60 s; the confidential client as in 2023.4 (not re-recorded).
// - JSON answers: `anomaly: {count: 0}` instead of check_failures; metadata with a pipeline_version uuid.
// - Arrow answers: anomaly struct<count: uint32 not null>, metadata.elapsed list<uint64>, dropped, partition;
//   flattened: time timestamp[ms], in.* nullable, anomaly.count uint32 not null.
// - A tensor the model cannot read: HTTP 500 {"status":"Error","error":"Error running inference: ..."}.
// Not recorded (assumed): 401 as the proxy's plain text ("Jwt is missing", Envoy's jwt_authn wording, which
// the 2025 spec repeats), 404 for an unknown or undeployed deployment with an empty body (a route the proxy
// does not have), 503 "no healthy upstream" while the engine starts (Envoy's answer without a ready endpoint).
import type { VersionProfile, WallarooErrorAnswer, WallarooErrorKind } from './profile.ts';
import { ANOMALY, FLATTENED_TIME, engineError, metadataField, proxyText, TIME } from './shared.ts';

/** Errors before the 2025 spec: the proxy's plain text for the platform, the engine's JSON for inference. */
export function preSpecError(kind: WallarooErrorKind, detail = ''): WallarooErrorAnswer {
  switch (kind) {
    case 'jwt-missing':
      return proxyText(401, 'Jwt is missing');
    case 'jwt-invalid':
      return proxyText(401, 'Jwt verification fails');
    case 'jwt-expired':
      return proxyText(401, 'Jwt is expired');
    case 'deployment-not-found':
      return { status: 404, contentType: 'text/plain', body: '' };
    case 'pipeline-activating':
      return proxyText(503, 'no healthy upstream');
    case 'bad-input':
      return engineError(500, `Error running inference: ${JSON.stringify(detail)}`);
    case 'unsupported-media-type':
      return engineError(415, detail);
    case 'internal':
    case 'native-call-on-openai-pipeline':
    case 'openai-call-on-native-pipeline':
      return engineError(500, 'Error running inference: "Internal processing error"');
    case 'mlops-needs-user-token':
      return engineError(403, detail);
    case 'mlops-not-found':
      return engineError(404, detail);
    case 'mlops-bad-request':
      return engineError(400, detail);
  }
}

export const profile2024: VersionProfile = {
  version: '2024.2',
  keycloakOnOwnHost: false,
  lifetimes: { clientCredentials: 3600, confidentialPassword: 3600, publicPassword: 60, refresh: 1800 },
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
  datasetFlatten: false,
  openAi: false,
  error: preSpecError,
};
