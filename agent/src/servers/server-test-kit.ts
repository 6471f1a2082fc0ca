import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import type { ServerReport } from '@meridian/contracts/task-types/server-spec';
import { ServerStartPayloadSchema } from '@meridian/contracts/task-types/server-tasks';
import type { TaskHandler } from '../handlers/handler.js';
import { handlerContext } from '../testing/handler-context.js';
import { temporaryDataDir } from '../testing/data-dir.js';
import { GAME_SERVER_READY_PATTERN, writeGameServer } from '../testing/game-server.js';
import { createServerHandlers } from './handlers/server-handlers.js';
import { ServerSupervisor } from './server-supervisor.js';

/** Directories, a supervisor and its handlers, for tests that drive servers without a broker. */
export function serverTestKit(options: { logMaxBytes?: number; dataDir?: string } = {}) {
  const dataDir = options.dataDir ?? temporaryDataDir();
  const servers = {
    root: join(dataDir, 'servers'),
    stateDir: join(dataDir, 'server-state'),
    logMaxBytes: options.logMaxBytes ?? 8 * 1024 * 1024,
  };
  mkdirSync(servers.root, { recursive: true });
  const scripts = join(dataDir, 'scripts');
  mkdirSync(scripts, { recursive: true });
  const argv = writeGameServer(scripts);
  const changes: ServerReport[] = [];
  const supervisor = new ServerSupervisor({
    servers,
    baseEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    onChange: (report) => changes.push(report),
    logger: pino({ level: 'silent' }),
  });
  supervisor.load();
  const handlers = new Map(createServerHandlers(supervisor, servers.stateDir).map((h) => [h.type, h]));

  /** Runs a handler of `type` for `serverId` with `payload` (parsed by its schema, as the runner does). */
  const run = async (
    type: string,
    serverId: string,
    payload: unknown,
    options: { targetType?: string; signal?: AbortSignal } = {},
  ) => {
    const handler = handlers.get(type) as TaskHandler;
    const test = handlerContext(handler.payloadSchema.parse(payload));
    const target = { type: options.targetType ?? 'Server', id: serverId };
    test.ctx.execution = { ...test.ctx.execution, type, target };
    options.signal?.addEventListener('abort', () => test.controller.abort(options.signal?.reason), {
      once: true,
    });
    const result = await handler.run(test.ctx);
    return { result, test, stdout: () => test.output.stdout.toString() };
  };
  const spec = (overrides: Record<string, unknown> = {}) =>
    ServerStartPayloadSchema.parse({
      spec: {
        argv,
        readyPattern: GAME_SERVER_READY_PATTERN,
        stop: { type: 'command', command: 'stop' },
        stopTimeoutSeconds: 10,
        readyTimeoutSeconds: 30,
        ...overrides,
      },
    });
  const statesOf = (serverId: string) => changes.filter((c) => c.serverId === serverId).map((c) => c.state);
  /** Kills what the tests left running (their process groups) and stops watching. */
  const dispose = () => {
    for (const report of supervisor.reports()) {
      if (report.pid !== null) {
        try {
          process.kill(-report.pid, 'SIGKILL');
        } catch {
          // Gone already.
        }
      }
    }
    supervisor.close();
  };
  return { dataDir, servers, argv, supervisor, run, spec, changes, statesOf, dispose };
}
