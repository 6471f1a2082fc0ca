import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDataDirs, temporaryDataDir } from '../testing/data-dir.js';
import {
  CredentialsFileError,
  readCredentialsFile,
  saveSigningKeys,
  writeCredentialsFile,
  type StoredCredentials,
} from './credentials-file.js';

afterAll(removeDataDirs);

const stored: StoredCredentials = {
  nodeId: 'edge-7',
  orgId: 'acme',
  topologyPrefix: 'meridian',
  broker: { username: 'meridian.node.edge-7', password: 'secret' },
  signingKeys: [{ keyId: 'k1', algorithm: 'Ed25519', publicKey: 'AAAA' }],
  labels: { region: 'eu' },
  issuedAt: '2026-01-01T00:00:00.000Z',
  controlPlaneUrl: 'https://control-plane.example',
  enrolledAt: '2026-01-01T00:00:00.000Z',
};

const mode = (path: string) => statSync(path).mode & 0o777;

describe('the credentials file', () => {
  it('is written with mode 0600 in a directory created 0700, and read back as written', () => {
    const dir = join(temporaryDataDir(), 'new', 'data');
    const file = join(dir, 'credentials.json');
    writeCredentialsFile(file, stored);
    expect(mode(file)).toBe(0o600);
    expect(mode(dir)).toBe(0o700);
    expect(readCredentialsFile(file)).toEqual(stored);
  });

  it('is replaced atomically: no temporary file is left, and the new content is whole', () => {
    const dir = temporaryDataDir();
    const file = join(dir, 'credentials.json');
    writeCredentialsFile(file, stored);
    writeCredentialsFile(file, { ...stored, broker: { ...stored.broker, password: 'rotated' } });
    expect(readCredentialsFile(file)?.broker.password).toBe('rotated');
    expect(() => statSync(`${file}.tmp`)).toThrow();
  });

  it('gets mode 0600 even over a leftover temporary file with a looser mode', () => {
    const file = join(temporaryDataDir(), 'credentials.json');
    writeFileSync(`${file}.tmp`, 'half', { mode: 0o644 });
    chmodSync(`${file}.tmp`, 0o644);
    writeCredentialsFile(file, stored);
    expect(mode(file)).toBe(0o600);
  });

  it('is absent: undefined (development mode or enrollment)', () => {
    expect(readCredentialsFile(join(temporaryDataDir(), 'credentials.json'))).toBeUndefined();
  });

  const privateFile = (file: string, content: string) => writeFileSync(file, content, { mode: 0o600 });
  it.each<[string, (file: string) => void, RegExp]>([
    [
      'readable by others',
      (file) => {
        writeFileSync(file, JSON.stringify(stored));
        chmodSync(file, 0o644);
      },
      /accessible by other users.*chmod 600/,
    ],
    ['not JSON', (file) => privateFile(file, '{ nope'), /is not JSON/],
    [
      'missing the broker password',
      (file) => privateFile(file, JSON.stringify({ ...stored, broker: { username: 'u' } })),
      /invalid: broker.password/,
    ],
    ['a directory', (file) => mkdirSync(file, { mode: 0o700 }), /cannot read/],
  ])('is refused when %s', (_, create, message) => {
    const file = join(temporaryDataDir(), 'credentials.json');
    create(file);
    expect(() => readCredentialsFile(file)).toThrow(CredentialsFileError);
    expect(() => readCredentialsFile(file)).toThrow(message);
  });

  it('is never written invalid', () => {
    const file = join(temporaryDataDir(), 'credentials.json');
    expect(() => writeCredentialsFile(file, { ...stored, controlPlaneUrl: 'ftp://x' })).toThrow();
    expect(() => readFileSync(file)).toThrow();
  });

  it('takes refreshed signing keys without losing what else it holds', () => {
    const file = join(temporaryDataDir(), 'credentials.json');
    writeCredentialsFile(file, stored);
    const keys = [{ keyId: 'k2', algorithm: 'Ed25519' as const, publicKey: 'BBBB' }];
    saveSigningKeys(file, keys);
    expect(readCredentialsFile(file)).toEqual({ ...stored, signingKeys: keys });
  });
});
