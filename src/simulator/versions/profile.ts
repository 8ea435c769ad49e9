// The shape of a version profile, apart from index.ts so the profiles can name it without importing the
// index that imports them.
import type { Field } from 'apache-arrow';
import type { WallarooVersion } from './names.ts';

/** Every error the simulated Wallaroo can answer; each version writes them its own way. */
export type WallarooErrorKind =
  | 'jwt-missing'
  | 'jwt-invalid'
  | 'jwt-expired'
  | 'deployment-not-found'
  | 'pipeline-activating'
  | 'bad-input'
  | 'unsupported-media-type'
  | 'internal'
  | 'native-call-on-openai-pipeline'
  | 'openai-call-on-native-pipeline'
  | 'mlops-needs-user-token'
  | 'mlops-not-found'
  | 'mlops-bad-request';

export interface WallarooErrorAnswer {
  status: number;
  contentType: string;
  body: string;
}

/** Access-token lifetimes in seconds, by how the token was asked for; refresh tokens live `refresh`. */
export interface TokenLifetimes {
  clientCredentials: number;
  /** Password grant from a confidential client (HTTP Basic), e.g. `api-client`. */
  confidentialPassword: number;
  /** Password grant from the public `sdk-client`. */
  publicPassword: number;
  refresh: number;
}

/** Arrow fields of an answer's fixed columns; `in` and `out` follow the model. */
export interface AnswerArrowFields {
  time: Field;
  check: Field;
  metadata: Field;
  /** `time` once flattened (the SDK's tables print `timestamp[ms]`). */
  flattenedTime: Field;
  /** Replaces the check column when flattened, or null to flatten it like any struct. */
  flattenedCheck: { field: Field; value: number } | null;
  /** Whether `in.*` columns stay non-null once flattened. */
  flattenedInputNotNull: boolean;
}

export interface VersionProfile {
  version: WallarooVersion;
  /** Keycloak on its own host (`{prefix}.keycloak.{suffix}`), the API and inference on `{prefix}.api.{suffix}`. */
  keycloakOnOwnHost: boolean;
  lifetimes: TokenLifetimes;
  /** Per-row check result: `check_failures: []` or `anomaly: {count: 0}`. */
  checkColumn: 'check_failures' | 'anomaly';
  /** The metadata fields a JSON answer carries, in order. */
  metadataFields: ReadonlyArray<'last_model' | 'pipeline_version' | 'elapsed' | 'dropped' | 'partition'>;
  /** The metadata fields an Arrow answer carries (the recorded Arrow answer may predate the JSON one). */
  arrowMetadataFields: ReadonlyArray<'last_model' | 'pipeline_version' | 'elapsed' | 'dropped' | 'partition'>;
  /** Whether `metadata.pipeline_version` names the version (older engines left it empty). */
  pipelineVersionInAnswer: boolean;
  arrow: () => AnswerArrowFields;
  /** `dataset.flatten=true` is understood (the 2025 spec); `dataset.separator` flattens in every version. */
  datasetFlatten: boolean;
  /** OpenAI-compatible endpoints exist (2025 and later). */
  openAi: boolean;
  error(kind: WallarooErrorKind, detail?: string): WallarooErrorAnswer;
}
