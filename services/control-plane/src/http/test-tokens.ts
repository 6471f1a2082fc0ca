import { SignJWT } from 'jose';

/** For tests: an HS256 token with the claims the API reads. */
export interface TestTokenClaims {
  sub?: string;
  orgId?: string;
  permissions?: string[];
  /** e.g. '1h', or a past Unix time in seconds for an expired token. */
  expiresAt?: string | number;
  issuer?: string;
  audience?: string;
}

export const TEST_SECRET = 'http-test-secret-0123456789';
export const ALL_PERMISSIONS = [
  'task:read',
  'task:write',
  'task:trigger',
  'task:reschedule',
  'task:read-events',
  'node:read',
];

export async function signTestToken(claims: TestTokenClaims = {}, secret = TEST_SECRET): Promise<string> {
  const payload: Record<string, unknown> = { permissions: claims.permissions ?? ALL_PERMISSIONS };
  if (claims.orgId !== '') payload['org_id'] = claims.orgId ?? 'org-a';
  let jwt = new SignJWT(payload)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub ?? 'user-1')
    .setIssuedAt()
    .setExpirationTime(claims.expiresAt ?? '1h');
  if (claims.issuer) jwt = jwt.setIssuer(claims.issuer);
  if (claims.audience) jwt = jwt.setAudience(claims.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}
