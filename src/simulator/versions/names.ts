// The modelled Wallaroo releases, in a module of its own so the CLI can check a version name without loading
// the simulator.
export const WALLAROO_VERSIONS = ['2023.4', '2024.2', '2025'] as const;
export type WallarooVersion = (typeof WALLAROO_VERSIONS)[number];
export const DEFAULT_WALLAROO_VERSION: WallarooVersion = '2025';

export function isWallarooVersion(value: unknown): value is WallarooVersion {
  return typeof value === 'string' && (WALLAROO_VERSIONS as readonly string[]).includes(value);
}
