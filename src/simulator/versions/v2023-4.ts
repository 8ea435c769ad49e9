// Wallaroo 2023.4, as the wallaroo-2023.4 branch of WallarooLabs/Wallaroo_Tutorials recorded it
// (test/fixtures/wallaroo-recorded/2023.4/):
// - Keycloak on its own host: tokens carry iss https://doc-test.keycloak.wallaroocommunity.ninja/... while
//   get_pipeline_external_url answers https://doc-test.api.wallaroocommunity.ninja/v1/api/pipelines/infer/...
// - sdk-client tokens live 60 s; the confidential client's password grant 3600 s with a 1800 s refresh token,
//   its client_credentials token 3600 s.
// - JSON answers: `check_failures: []`, metadata {last_model, pipeline_version: "", elapsed, dropped, partition}.
// - Arrow answers (the recording predates the JSON one): time int64, in/out structs, out lists with a non-null
//   `inner` child, check_failures list<utf8>, metadata {last_model, pipeline_version, elapsed list<uint32>};
//   flattened by the SDK's dataset parameters: time timestamp[ms], in.* not null, check_failures int8.
// Not recorded for 2023.4: error bodies. Assumed as 2024.2 (the same engine format), see v2024-2.ts.
import type { VersionProfile } from './profile.ts';
import { CHECK_FAILURES, CHECK_FAILURES_FLATTENED, FLATTENED_TIME, metadataField, TIME } from './shared.ts';
import { preSpecError } from './v2024-2.ts';

export const profile2023: VersionProfile = {
  version: '2023.4',
  keycloakOnOwnHost: true,
  lifetimes: { clientCredentials: 3600, confidentialPassword: 3600, publicPassword: 60, refresh: 1800 },
  checkColumn: 'check_failures',
  metadataFields: ['last_model', 'pipeline_version', 'elapsed', 'dropped', 'partition'],
  arrowMetadataFields: ['last_model', 'pipeline_version', 'elapsed'],
  pipelineVersionInAnswer: false,
  arrow: () => ({
    time: TIME,
    check: CHECK_FAILURES,
    metadata: metadataField('uint32', ['last_model', 'pipeline_version', 'elapsed']),
    flattenedTime: FLATTENED_TIME,
    flattenedCheck: { field: CHECK_FAILURES_FLATTENED, value: 0 },
    flattenedInputNotNull: true,
  }),
  datasetFlatten: false,
  openAi: false,
  error: preSpecError,
};
