import {
  ServerRestartPayloadSchema,
  type ServerRestartPayload,
} from '@meridian/contracts/task-types/server-tasks';
import type { TaskHandler } from '../../handlers/handler.js';
import type { ServerSupervisor } from '../server-supervisor.js';
import { startServer } from './start-server.js';
import { stopServer } from './server-stop.js';
import { targetServerOf } from './server-target.js';
import { progressWithin } from './progress-range.js';

/** `ServerRestart`: a ServerStop (when it runs) then a ServerStart, as one step of the server's queue. */
export function createServerRestartHandler(supervisor: ServerSupervisor): TaskHandler<ServerRestartPayload> {
  return {
    type: 'ServerRestart',
    payloadSchema: ServerRestartPayloadSchema,
    run(ctx) {
      const target = targetServerOf(ctx);
      if ('failure' in target) return Promise.resolve(target.failure);
      const { serverId } = target;
      return supervisor.exclusive(serverId, ctx.signal, async () => {
        const stopped = await stopServer(ctx, supervisor, serverId, ctx.payload, progressWithin(ctx, 0, 50));
        if (stopped.status !== 'completed') return stopped;
        return startServer(ctx, supervisor, serverId, ctx.payload.spec, progressWithin(ctx, 50, 100));
      });
    },
  };
}
