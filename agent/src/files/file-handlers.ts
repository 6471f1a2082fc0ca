import type { TaskHandler } from '../handlers/handler.js';
import type { FileHandlerDeps } from './file-handler-deps.js';
import { createBackupHandler } from './handlers/backup.js';
import { createCustomHandler } from './handlers/custom.js';
import { createFileTransferHandler } from './handlers/file-transfer.js';
import { createModInstallHandler } from './handlers/mod-install.js';
import { createRestoreHandler } from './handlers/restore.js';
import { createServerUpdateHandler } from './handlers/server-update.js';

export type { FileHandlerDeps };

/**
 * The handlers of a server's files: Backup, Restore, ServerUpdate, ModInstall, FileTransfer and
 * Custom. Each targets one server (`targetType: "Server"`), runs in that server's queue
 * (`host.exclusive`), keeps every path inside its directory, and cleans up after a failure or
 * an abort.
 */
export function createFileHandlers(deps: FileHandlerDeps): TaskHandler[] {
  return [
    createBackupHandler(deps),
    createRestoreHandler(deps),
    createServerUpdateHandler(deps),
    createModInstallHandler(deps),
    createFileTransferHandler(deps),
    createCustomHandler(deps),
  ];
}
