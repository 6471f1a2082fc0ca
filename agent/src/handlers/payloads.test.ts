import { describe, expect, it } from 'vitest';
import { describeIssues } from '../execute-task-message.js';
import { CommandPayloadSchema } from './command.js';
import { EchoPayloadSchema } from './echo.js';
import { HealthCheckPayloadSchema } from './health-check.js';
import type { z } from 'zod';

function problem(schema: z.ZodType, payload: unknown): string | undefined {
  const parsed = schema.safeParse(payload);
  return parsed.success ? undefined : describeIssues(parsed.error);
}

describe('Command payload', () => {
  it.each([
    { command: ['echo', 'hello'] },
    { command: 'echo $HOME', shell: true },
    { command: ['ls'], cwd: '/tmp', env: { A: '1' }, timeoutSeconds: 5 },
  ])('accepts %o', (payload) => {
    expect(problem(CommandPayloadSchema, payload)).toBeUndefined();
  });

  it.each([
    [{}, 'payload.command'],
    [{ command: 42 }, 'payload.command'],
    [{ command: [] }, 'payload.command'],
    [{ command: [''] }, 'payload.command.0'],
    [{ command: 'echo hi' }, 'payload.command: a string needs "shell": true'],
    [{ command: ['echo', 'hi'], shell: true }, 'payload.command: with "shell": true'],
    [{ command: ['echo'], cwd: '' }, 'payload.cwd'],
    [{ command: ['echo'], env: { A: 1 } }, 'payload.env.A'],
    [{ command: ['echo'], env: { 'A=B': 'x' } }, 'payload.env.A=B'],
    [{ command: ['echo', 'a\0b'] }, 'payload.command'],
    [{ command: ['echo'], timeoutSeconds: 0 }, 'payload.timeoutSeconds'],
  ])('refuses %o naming %s', (payload, field) => {
    expect(problem(CommandPayloadSchema, payload)).toContain(field);
  });
});

describe('HealthCheck payload', () => {
  it.each([
    [{ tcp: { host: 'db', port: 5432 } }, { timeoutMs: 5000 }],
    [{ http: { url: 'https://example.com/health', expectStatus: 204 }, timeoutMs: 100 }, { timeoutMs: 100 }],
  ])('accepts %o', (payload, expected) => {
    expect(HealthCheckPayloadSchema.parse(payload)).toMatchObject(expected);
  });

  it.each([
    [{}, 'payload.tcp: give exactly one'],
    [{ tcp: { host: 'a', port: 1 }, http: { url: 'http://a' } }, 'payload.tcp: give exactly one'],
    [{ tcp: { host: 'db', port: 70000 } }, 'payload.tcp.port'],
    [{ tcp: { port: 80 } }, 'payload.tcp.host'],
    [{ http: { url: 'not a url' } }, 'payload.http.url'],
    [{ http: { url: 'ftp://example.com' } }, 'payload.http.url'],
    [{ http: { url: 'http://a', expectStatus: 42 } }, 'payload.http.expectStatus'],
    [{ tcp: { host: 'db', port: 1 }, timeoutMs: 0 }, 'payload.timeoutMs'],
  ])('refuses %o naming %s', (payload, field) => {
    expect(problem(HealthCheckPayloadSchema, payload)).toContain(field);
  });
});

describe('Echo payload', () => {
  it('keeps every field', () => {
    expect(EchoPayloadSchema.parse({ delayMs: 5, anything: { nested: [1] } })).toEqual({
      delayMs: 5,
      anything: { nested: [1] },
    });
  });

  it.each([[{ delayMs: -1 }], [{ delayMs: 'soon' }], [{ delayMs: 1.5 }]])('refuses %o', (payload) => {
    expect(problem(EchoPayloadSchema, payload)).toContain('payload.delayMs');
  });
});
