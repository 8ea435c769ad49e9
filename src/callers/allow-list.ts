import { type CallerPattern, parseCallerPattern, parseSpiffeId, WILDCARD } from '../config/caller-patterns.ts';
import type { CallerIdentity } from '../http/caller.ts';

// Who may call one pipeline. Pure: compiled once from the config's patterns, asked once per request.

const segmentMatches = (pattern: string, value: string) => pattern === WILDCARD || pattern === value;

function matches(pattern: CallerPattern, identity: CallerIdentity, spiffe: { trustDomain: string; path: string[] } | null): boolean {
  switch (pattern.kind) {
    case 'any':
      return true;
    case 'service-account':
      return identity.serviceAccount !== null
        && segmentMatches(pattern.namespace, identity.serviceAccount.namespace)
        && segmentMatches(pattern.name, identity.serviceAccount.name);
    case 'spiffe':
      return spiffe !== null
        && spiffe.trustDomain === pattern.trustDomain
        && spiffe.path.length === pattern.path.length
        && pattern.path.every((segment, index) => segmentMatches(segment, spiffe.path[index]!));
    case 'subject':
      return identity.id === `CN=${pattern.commonName}`;
  }
}

export class AllowList {
  readonly patterns: readonly CallerPattern[];
  private readonly anyone: boolean;
  private readonly needsSpiffe: boolean;

  /** `patterns` were checked when the config was loaded; a bad one here is a bug and throws. */
  constructor(readonly entries: readonly string[]) {
    this.patterns = entries.map(parseCallerPattern);
    this.anyone = this.patterns.some((p) => p.kind === 'any');
    this.needsSpiffe = this.patterns.some((p) => p.kind === 'spiffe');
  }

  allows(identity: CallerIdentity): boolean {
    if (this.anyone) return true;
    const spiffe = this.needsSpiffe ? parseSpiffeId(identity.id) : null;
    return this.patterns.some((pattern) => matches(pattern, identity, spiffe));
  }
}
