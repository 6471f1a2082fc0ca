import { randomUUID } from 'node:crypto';
import { createRemoteJWKSet, errors, jwtVerify } from 'jose';
import type { JWTPayload, JWTVerifyGetKey, JWTVerifyOptions } from 'jose';
import { z } from 'zod';
import type { Actor } from '../app/actor.js';
import { UnauthenticatedError } from './auth-errors.js';
import { VerifiedTokenCache, type VerifiedClaims } from './verified-token-cache.js';

export interface AuthenticatorOptions {
  /** Shared secret of HS256 tokens (JWT_SECRET). */
  secret?: string;
  /** Key set of an identity provider, for asymmetrically signed tokens (JWKS_URL). */
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  clockToleranceSeconds?: number;
}

export interface Authenticator {
  /**
   * Verifies an `Authorization` header value (`Bearer <jwt>`) or a bare JWT and returns the caller.
   * Throws `UnauthenticatedError` when it is missing or does not verify; any other error (a key
   * set that cannot be fetched) is the server's problem and propagates as is.
   */
  verifyBearer(authorizationHeaderOrToken: string | null | undefined, correlationId?: string): Promise<Actor>;
}

const ClaimsSchema = z.object({
  sub: z.string().min(1),
  org_id: z.string().min(1),
  permissions: z.array(z.string()).default([]),
});

const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'EdDSA',
];
/** Key-set errors that say the identity provider is unreachable, not that the token is bad. */
const KEY_SET_UNAVAILABLE = new Set(['ERR_JWKS_TIMEOUT', 'ERR_JWKS_INVALID']);

/** The token of `Bearer <token>`, or the value itself when it has no scheme. */
export function bearerToken(authorizationHeaderOrToken: string | null | undefined): string {
  const parts = (authorizationHeaderOrToken ?? '').trim().split(/\s+/);
  const [first = '', second] = parts;
  const isBearer = first.toLowerCase() === 'bearer';
  if (parts.length === 1 && first !== '' && !isBearer) return first;
  if (parts.length === 2 && isBearer && second) return second;
  if (first === '' || (isBearer && parts.length === 1)) {
    throw new UnauthenticatedError('a bearer token is required');
  }
  throw new UnauthenticatedError('the Authorization header must be "Bearer <token>"');
}

export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const { key, algorithms } = verificationKey(options);
  const verifyOptions: JWTVerifyOptions = { algorithms, clockTolerance: options.clockToleranceSeconds ?? 0 };
  if (options.issuer !== undefined) verifyOptions.issuer = options.issuer;
  if (options.audience !== undefined) verifyOptions.audience = options.audience;

  const cache = new VerifiedTokenCache();

  async function verifyClaims(token: string): Promise<VerifiedClaims> {
    const cached = cache.get(token, Date.now());
    if (cached) return cached;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key, verifyOptions));
    } catch (error) {
      throw toAuthError(error);
    }
    const claims = ClaimsSchema.safeParse(payload);
    if (!claims.success) {
      const names = [...new Set(claims.error.issues.map((issue) => String(issue.path[0] ?? 'token')))];
      throw new UnauthenticatedError(`the token's ${names.join(', ')} claim is missing or invalid`);
    }
    cache.set(token, claims.data, payload.exp === undefined ? undefined : payload.exp * 1000, Date.now());
    return claims.data;
  }

  return {
    async verifyBearer(authorizationHeaderOrToken, correlationId = randomUUID()) {
      const claims = await verifyClaims(bearerToken(authorizationHeaderOrToken));
      return {
        userId: claims.sub,
        orgId: claims.org_id,
        permissions: new Set(claims.permissions),
        correlationId,
      };
    },
  };
}

function verificationKey(options: AuthenticatorOptions): { key: JWTVerifyGetKey; algorithms: string[] } {
  const secret = options.secret === undefined ? undefined : new TextEncoder().encode(options.secret);
  const keySet = options.jwksUrl === undefined ? undefined : createRemoteJWKSet(new URL(options.jwksUrl));
  if (!secret && !keySet) throw new Error('createAuthenticator needs a secret or a jwksUrl');
  const algorithms = [...(secret ? ['HS256'] : []), ...(keySet ? ASYMMETRIC_ALGORITHMS : [])];
  const key: JWTVerifyGetKey = async (header, token) => {
    if (header.alg === 'HS256' && secret) return secret;
    if (keySet) return keySet(header, token);
    throw new errors.JOSEAlgNotAllowed(`unexpected "alg" ${header.alg ?? '(none)'}`);
  };
  return { key, algorithms };
}

function toAuthError(error: unknown): unknown {
  if (!(error instanceof errors.JOSEError) || KEY_SET_UNAVAILABLE.has(error.code)) return error;
  if (error instanceof errors.JWTExpired)
    return new UnauthenticatedError('the token has expired', { cause: error });
  if (error instanceof errors.JWTClaimValidationFailed) {
    return new UnauthenticatedError(`the token's ${error.claim} claim is invalid`, { cause: error });
  }
  return new UnauthenticatedError('the token could not be verified', { cause: error });
}
