import { ModInstallPayloadSchema, type ModInstallPayload } from '@meridian/contracts/task-types/file-tasks';
import type { TaskHandler } from '../../handlers/handler.js';
import type { FileHandlerDeps } from '../file-handler-deps.js';
import { runFileTask } from '../file-task-run.js';
import { pathSegments } from '../safe-path.js';
import { placeDownload } from './place-download.js';

/** `ModInstall`: one file (a plugin or mod) downloaded, verified, into `<directory>/<fileName>`. */
export function createModInstallHandler(deps: FileHandlerDeps): TaskHandler<ModInstallPayload> {
  return {
    type: 'ModInstall',
    payloadSchema: ModInstallPayloadSchema,
    run: (ctx) =>
      runFileTask(ctx, deps.host, {}, async (target) => {
        const { payload } = ctx;
        const path = [...pathSegments(payload.directory, 'payload.directory'), payload.fileName].join('/');
        const source = { url: payload.url, headers: payload.headers, sha256: payload.sha256 };
        const placed = await placeDownload(ctx, deps, target, source, path, 'payload.directory');
        return { status: 'completed', result: placed };
      }),
  };
}
