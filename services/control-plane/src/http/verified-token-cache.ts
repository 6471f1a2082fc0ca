export interface VerifiedClaims {
  sub: string;
  org_id: string;
  permissions: string[];
}

/**
 * Remembers tokens that verified, for at most `ttlMs` and never past their own `exp`, so that a
 * client sending the same token on every request does not pay for a signature check each time.
 * Bounded: the oldest entry goes when it is full.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, { claims: VerifiedClaims; validUntil: number }>();

  constructor(
    private readonly maxEntries = 10_000,
    private readonly ttlMs = 60_000,
  ) {}

  get(token: string, nowMs: number): VerifiedClaims | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (entry.validUntil <= nowMs) {
      this.entries.delete(token);
      return undefined;
    }
    return entry.claims;
  }

  /** `expiresAtMs` is the token's `exp`; a token without one is not cached. */
  set(token: string, claims: VerifiedClaims, expiresAtMs: number | undefined, nowMs: number): void {
    if (expiresAtMs === undefined || this.maxEntries === 0) return;
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(token, { claims, validUntil: Math.min(expiresAtMs, nowMs + this.ttlMs) });
  }
}
