import { appendFileSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { CLOCK_SKEW_MS } from '@meridian/contracts/security/command-signature';
import { removeDataDirs, temporaryDataDir } from '../testing/data-dir.js';
import { AcceptedCommands } from './accepted-commands.js';

afterAll(removeDataDirs);

const logger = pino({ level: 'silent' });
const T0 = Date.parse('2026-06-01T12:00:00.000Z');

function open(dir = temporaryDataDir(), options: { maxEntries?: number; compactAfterBytes?: number } = {}) {
  const clock = { now: T0 };
  const set = new AcceptedCommands({ dir, logger, now: () => new Date(clock.now), ...options });
  return { dir, clock, set };
}
const inMinutes = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

describe('AcceptedCommands (the replay set)', () => {
  it('remembers an accepted id until its expiry plus the clock skew, then forgets it', () => {
    const { clock, set } = open();
    set.add('m-1', inMinutes(15));
    expect(set.has('m-1')).toBe(true);
    expect(set.has('m-2')).toBe(false);
    clock.now = T0 + 15 * 60_000 + CLOCK_SKEW_MS;
    expect(set.has('m-1')).toBe(true);
    clock.now += 1;
    expect(set.has('m-1')).toBe(false);
  });

  it('survives a restart of the agent, without the ids that expired meanwhile', () => {
    const { dir, clock, set } = open();
    set.add('short', inMinutes(1));
    set.add('long', inMinutes(60));
    set.close();

    const reopened = new AcceptedCommands({
      dir,
      logger,
      now: () => new Date(clock.now + 10 * 60_000),
    });
    expect(reopened.has('long')).toBe(true);
    expect(reopened.has('short')).toBe(false);
    expect(reopened.size).toBe(1);
    reopened.close();
  });

  it('keeps its file readable by the agent user only', () => {
    const { dir, set } = open();
    set.add('m-1', inMinutes(15));
    expect(statSync(join(dir, 'accepted-commands.jsonl')).mode & 0o777).toBe(0o600);
    set.close();
  });

  it('ignores a torn last line', () => {
    const { dir, set } = open();
    set.add('m-1', inMinutes(15));
    set.close();
    appendFileSync(join(dir, 'accepted-commands.jsonl'), '{"id":"m-2","unt');
    const { set: reopened } = open(dir);
    expect(reopened.has('m-1')).toBe(true);
    expect(reopened.size).toBe(1);
    reopened.close();
  });

  it('compacts its file down to the ids still alive', () => {
    const { dir, clock, set } = open(undefined, { compactAfterBytes: 250 });
    for (let i = 0; i < 5; i++) set.add(`old-${i}`, inMinutes(1));
    clock.now = T0 + 10 * 60_000;
    for (let i = 0; i < 5; i++) set.add(`new-${i}`, inMinutes(30));
    const lines = readFileSync(join(dir, 'accepted-commands.jsonl'), 'utf8').trim().split('\n');
    expect(lines.some((line) => line.includes('old-'))).toBe(false);
    expect(set.has('new-4')).toBe(true);
    set.close();
  });

  it('stays bounded: beyond its maximum, the ids that expire first go', () => {
    const { set } = open(undefined, { maxEntries: 3 });
    set.add('a', inMinutes(30));
    set.add('b', inMinutes(10));
    set.add('c', inMinutes(20));
    set.add('d', inMinutes(40));
    expect(set.size).toBe(3);
    expect(['a', 'b', 'c', 'd'].filter((id) => set.has(id))).toEqual(['a', 'c', 'd']);
    set.close();
  });

  it('ignores an expiry that is not a time', () => {
    const { set } = open();
    set.add('m-1', 'soon');
    expect(set.has('m-1')).toBe(false);
    set.close();
  });
});
