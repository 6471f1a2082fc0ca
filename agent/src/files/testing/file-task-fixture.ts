import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { z } from 'zod';
import type { ServersConfig } from '../../config.js';
import type { HandlerResult, TaskHandler } from '../../handlers/handler.js';
import { handlerContext, type TestContext } from '../../testing/handler-context.js';
import { StaticServerHost } from '../../testing/static-server-host.js';
import type { FileHandlerDeps } from '../file-handler-deps.js';

/**
 * A node's directories in a fresh temporary directory (servers root, backups, state), a host of
 * plain directories over them, and a way to run a file handler on one server as the runner would.
 */
export interface FileTaskFixture {
  base: string;
  servers: ServersConfig;
  host: StaticServerHost;
  deps: FileHandlerDeps;
  /** Runs `handler` with `payload` (parsed by its schema) against server `serverId`. */
  run<T>(
    handler: TaskHandler<T>,
    serverId: string,
    payload: unknown,
  ): TestContext<T> & { result: Promise<HandlerResult> };
  remove(): void;
}

export function createFileTaskFixture(overrides: Partial<ServersConfig> = {}): FileTaskFixture {
  const base = mkdtempSync(join(tmpdir(), 'meridian-files-'));
  const servers: ServersConfig = {
    root: join(base, 'servers'),
    backupsDir: join(base, 'backups'),
    stateDir: join(base, 'server-state'),
    logMaxBytes: 1024 * 1024,
    transferMaxBytes: 64 * 1024 * 1024,
    extractMaxBytes: 256 * 1024 * 1024,
    extractMaxEntries: 10_000,
    ...overrides,
  };
  mkdirSync(servers.root, { recursive: true });
  const host = new StaticServerHost(servers.root);
  const deps: FileHandlerDeps = {
    host,
    servers,
    baseEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin', FROM_BASE: 'base' },
  };
  return {
    base,
    servers,
    host,
    deps,
    run(handler, serverId, payload) {
      const context = handlerContext((handler.payloadSchema as z.ZodType<unknown>).parse(payload) as never);
      context.ctx.execution = {
        ...context.ctx.execution,
        type: handler.type,
        executionId: randomUUID(),
        target: { type: 'Server', id: serverId },
      };
      return { ...context, result: handler.run(context.ctx) };
    },
    remove: () => rmSync(base, { recursive: true, force: true }),
  };
}
