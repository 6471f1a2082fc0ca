import {
  ServerStartPayloadSchema,
  type ServerStartPayload,
} from '@meridian/contracts/task-types/server-tasks';
import type { TaskHandler } from '../../handlers/handler.js';
import type { ServerSupervisor } from '../server-supervisor.js';
import { startServer } from './start-server.js';
import { targetServerOf } from './server-target.js';

/** `ServerStart`: see start-server.ts. Result: { pid, startedAt, readyAfterMs }. */
export function createServerStartHandler(supervisor: ServerSupervisor): TaskHandler<ServerStartPayload> {
  return {
    type: 'ServerStart',
    payloadSchema: ServerStartPayloadSchema,
    run(ctx) {
      const target = targetServerOf(ctx);
      if ('failure' in target) return Promise.resolve(target.failure);
      const { serverId } = target;
      return supervisor.exclusive(serverId, ctx.signal, () =>
        startServer(ctx, supervisor, serverId, ctx.payload.spec),
      );
    },
  };
}
