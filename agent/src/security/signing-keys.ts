import type { KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import { importPublicKey, type SigningPublicKey } from '@meridian/contracts/security/command-signature';

export interface SigningKeysOptions {
  /** The keys of the credentials file. */
  initial: readonly SigningPublicKey[];
  /** The control plane's current list (GET /api/v1/agent/signing-keys). */
  fetchKeys(): Promise<readonly SigningPublicKey[]>;
  /** Keeps a refreshed list for the next start (the credentials file). */
  save(keys: readonly SigningPublicKey[]): void;
  /** At most one refresh per this many ms (default 30 s): a flood of forged key ids costs one request. */
  refreshIntervalMs?: number;
  now?: () => number;
  logger: Logger;
}

export const KEY_REFRESH_INTERVAL_MS = 30_000;

/**
 * The public keys commands are verified with. A command signed with a key id not among them makes
 * the verifier ask for a refresh: the control plane's list replaces this one (a retired key goes,
 * a new one comes), at most once per interval, and is saved.
 */
export class SigningKeys {
  #keys: ReadonlyMap<string, KeyObject>;
  #lastRefresh = Number.NEGATIVE_INFINITY;
  #refreshing: Promise<boolean> | undefined;
  readonly #intervalMs: number;
  readonly #now: () => number;

  constructor(private readonly options: SigningKeysOptions) {
    this.#keys = this.#import(options.initial);
    this.#intervalMs = options.refreshIntervalMs ?? KEY_REFRESH_INTERVAL_MS;
    this.#now = options.now ?? Date.now;
  }

  get keys(): ReadonlyMap<string, KeyObject> {
    return this.#keys;
  }

  /**
   * Fetches the list again, unless that was done less than the interval ago (then resolves false
   * at once). Resolves true when the list was fetched; never rejects.
   */
  refresh(): Promise<boolean> {
    if (this.#refreshing) return this.#refreshing;
    if (this.#now() - this.#lastRefresh < this.#intervalMs) return Promise.resolve(false);
    this.#lastRefresh = this.#now();
    this.#refreshing = this.#fetch().finally(() => (this.#refreshing = undefined));
    return this.#refreshing;
  }

  async #fetch(): Promise<boolean> {
    const { logger } = this.options;
    let fetched: readonly SigningPublicKey[];
    try {
      fetched = await this.options.fetchKeys();
    } catch (error) {
      logger.warn({ err: error }, 'could not fetch the command-signing keys from the control plane');
      return false;
    }
    const keys = this.#import(fetched);
    if (keys.size === 0) {
      logger.warn('the control plane listed no usable command-signing key; keeping the known ones');
      return false;
    }
    const before = [...this.#keys.keys()];
    this.#keys = keys;
    logger.info({ before, after: [...keys.keys()] }, 'command-signing keys refreshed');
    try {
      this.options.save(fetched.filter((key) => keys.has(key.keyId)));
    } catch (error) {
      logger.warn({ err: error }, 'could not save the refreshed command-signing keys');
    }
    return true;
  }

  #import(list: readonly SigningPublicKey[]): ReadonlyMap<string, KeyObject> {
    const keys = new Map<string, KeyObject>();
    for (const key of list) {
      try {
        keys.set(key.keyId, importPublicKey(key));
      } catch (error) {
        this.options.logger.warn({ err: error, keyId: key.keyId }, 'unusable command-signing key ignored');
      }
    }
    return keys;
  }
}
