import { describe, expect, it } from 'vitest';
import { bearerToken, createAuthenticator } from './auth.js';
import { UnauthenticatedError } from './auth-errors.js';
import { signTestToken, TEST_SECRET } from './test-tokens.js';

const auth = createAuthenticator({ secret: TEST_SECRET });

describe('bearerToken', () => {
  it.each([
    ['Bearer abc.def.ghi', 'abc.def.ghi'],
    ['bearer   abc.def.ghi ', 'abc.def.ghi'],
    ['abc.def.ghi', 'abc.def.ghi'],
  ])('reads %j', (input, token) => {
    expect(bearerToken(input)).toBe(token);
  });

  it.each([undefined, null, '', '   ', 'Bearer ', 'Basic dXNlcjpwdw=='])('refuses %j', (input) => {
    expect(() => bearerToken(input)).toThrow(UnauthenticatedError);
  });
});

describe('createAuthenticator with a shared secret', () => {
  it('turns a valid token into the actor, with the correlation id of the request', async () => {
    const token = await signTestToken({ sub: 'alice', orgId: 'org-7', permissions: ['task:read'] });
    const actor = await auth.verifyBearer(`Bearer ${token}`, 'corr-1');
    expect(actor).toEqual({
      userId: 'alice',
      orgId: 'org-7',
      permissions: new Set(['task:read']),
      correlationId: 'corr-1',
    });
  });

  it('accepts a bare token and generates a correlation id when none is given', async () => {
    const actor = await auth.verifyBearer(await signTestToken());
    expect(actor.correlationId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('treats missing permissions as none', async () => {
    const { SignJWT } = await import('jose');
    const token = await new SignJWT({ org_id: 'org-a' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('bob')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(TEST_SECRET));
    expect((await auth.verifyBearer(token)).permissions.size).toBe(0);
  });

  it.each([
    ['an expired token', () => signTestToken({ expiresAt: Math.floor(Date.now() / 1000) - 60 }), /expired/],
    ['a token signed with another secret', () => signTestToken({}, 'another-secret-0123456789'), /verified/],
    ['a token without org_id', () => signTestToken({ orgId: '' }), /org_id/],
    ['something that is not a JWT', () => Promise.resolve('not-a-jwt'), /verified/],
  ])('refuses %s with UnauthenticatedError', async (_, token, message) => {
    const verifying = auth.verifyBearer(`Bearer ${await token()}`);
    await expect(verifying).rejects.toBeInstanceOf(UnauthenticatedError);
    await expect(verifying).rejects.toThrow(message);
  });

  it('refuses an unsigned (alg none) token', async () => {
    const { UnsecuredJWT } = await import('jose');
    const token = new UnsecuredJWT({ org_id: 'org-a', permissions: ['task:read'] })
      .setSubject('eve')
      .encode();
    await expect(auth.verifyBearer(token)).rejects.toBeInstanceOf(UnauthenticatedError);
  });

  it('checks issuer and audience when configured', async () => {
    const strict = createAuthenticator({ secret: TEST_SECRET, issuer: 'https://idp', audience: 'meridian' });
    const good = await signTestToken({ issuer: 'https://idp', audience: 'meridian' });
    await expect(strict.verifyBearer(good)).resolves.toMatchObject({ orgId: 'org-a' });
    const wrongAudience = await signTestToken({ issuer: 'https://idp', audience: 'other' });
    await expect(strict.verifyBearer(wrongAudience)).rejects.toThrow(/aud/);
  });

  it('verifies HS256 tokens with the secret even when a key set is configured too', async () => {
    // Port 9 (discard) would fail any fetch: the key set must not be consulted for HS256.
    const both = createAuthenticator({ secret: TEST_SECRET, jwksUrl: 'http://127.0.0.1:9/jwks.json' });
    await expect(both.verifyBearer(await signTestToken({ orgId: 'org-b' }))).resolves.toMatchObject({
      orgId: 'org-b',
    });
  });

  it('refuses an asymmetrically signed token when only a secret is configured', async () => {
    const { SignJWT, generateKeyPair } = await import('jose');
    const { privateKey } = await generateKeyPair('ES256');
    const token = await new SignJWT({ org_id: 'org-a', permissions: [] })
      .setProtectedHeader({ alg: 'ES256' })
      .setSubject('mallory')
      .setExpirationTime('1h')
      .sign(privateKey);
    await expect(auth.verifyBearer(token)).rejects.toBeInstanceOf(UnauthenticatedError);
  });

  it('needs a secret or a key set', () => {
    expect(() => createAuthenticator({})).toThrow(/secret or a jwksUrl/);
  });
});
