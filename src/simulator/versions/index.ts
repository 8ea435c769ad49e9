// What differs between the Wallaroo releases the simulator models. Each profile cites the recordings it
// follows (test/fixtures/wallaroo-recorded/MANIFEST.md lists them); where nothing was recorded the profile
// says what it assumes instead.
import { profile2023 } from './v2023-4.ts';
import { profile2024 } from './v2024-2.ts';
import { profile2025 } from './v2025.ts';

import type { WallarooVersion } from './names.ts';
import type { VersionProfile } from './profile.ts';

export { DEFAULT_WALLAROO_VERSION, isWallarooVersion, WALLAROO_VERSIONS, type WallarooVersion } from './names.ts';

export type { AnswerArrowFields, TokenLifetimes, VersionProfile, WallarooErrorAnswer, WallarooErrorKind } from './profile.ts';

const PROFILES: Record<WallarooVersion, VersionProfile> = { '2023.4': profile2023, '2024.2': profile2024, '2025': profile2025 };

export function versionProfile(version: WallarooVersion): VersionProfile {
  return PROFILES[version];
}
