import {
  ServerStatusPayloadSchema,
  type ServerStatusResult,
} from '@meridian/contracts/task-types/server-tasks';
import type { TaskHandler } from '../../handlers/handler.js';
import type { ServerSupervisor } from '../server-supervisor.js';
import { targetServerOf } from './server-target.js';

/** CPU use is measured over this long. */
export const USAGE_SAMPLE_MS = 250;

/** `ServerStatus`: state, pid, uptime, last exit and resource use; a server never started is `stopped`. */
export function createServerStatusHandler(supervisor: ServerSupervisor): TaskHandler<Record<string, never>> {
  return {
    type: 'ServerStatus',
    payloadSchema: ServerStatusPayloadSchema,
    async run(ctx) {
      const target = targetServerOf(ctx);
      if ('failure' in target) return target.failure;
      const { serverId } = target;
      ctx.started();
      ctx.reportProgress(0, `sampling resource use for ${USAGE_SAMPLE_MS} ms`);
      const usage = await supervisor.usage(serverId, USAGE_SAMPLE_MS);
      const known = supervisor.snapshot(serverId);
      const startedAt = known?.startedAt ?? null;
      const result: ServerStatusResult = {
        serverId,
        state: known?.state ?? 'stopped',
        pid: known?.pid ?? null,
        startedAt,
        uptimeSeconds: startedAt === null ? null : Math.max(0, (Date.now() - Date.parse(startedAt)) / 1000),
        lastExitCode: known?.lastExitCode ?? null,
        lastExitSignal: known?.lastExitSignal ?? null,
        restarts: known?.restarts ?? 0,
        cpuPercent: usage?.cpuPercent ?? null,
        rssBytes: usage?.rssBytes ?? null,
        processes: usage?.processes ?? null,
      };
      ctx.reportProgress(100, result.state);
      return { status: 'completed', result };
    },
  };
}
