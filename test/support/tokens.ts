import { SignJWT } from 'jose';

export interface SignTokenOptions {
  secret: string;
  orgId: string;
  sub: string;
  permissions: string[];
  /** A jose time span such as `1h` or `30m`; default `1h`. */
  expiresIn?: string;
  issuer?: string;
  audience?: string;
}

/** An HS256 bearer token with the claims the control plane reads (`sub`, `org_id`, `permissions`). */
export async function signToken(options: SignTokenOptions): Promise<string> {
  let jwt = new SignJWT({ org_id: options.orgId, permissions: options.permissions })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.sub)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '1h');
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  if (options.audience) jwt = jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(options.secret));
}
