import { readFileSync } from 'node:fs';
import { z } from 'zod';
import {
  ServerSpecSchema,
  ServerStateSchema,
  type ServerSpec,
} from '@meridian/contracts/task-types/server-spec';
import { ensurePrivateDir, replaceFileDurably } from '../state/durable-file.js';
import type { ServerFiles } from './server-files.js';

/** What the agent keeps about a server between its own restarts (besides the spec). */
export const PersistedServerSchema = z.object({
  state: ServerStateSchema,
  process: z
    .object({ pid: z.number().int().min(1), startTime: z.string(), startedAt: z.string() })
    .nullable(),
  /** A stop was asked for: the process ending is no crash. */
  stopRequested: z.boolean(),
  restarts: z.number().int().min(0),
  lastExitCode: z.number().int().nullable(),
  lastExitSignal: z.string().nullable(),
  changedAt: z.string(),
});
export type PersistedServer = z.infer<typeof PersistedServerSchema>;

export function writeServerState(files: ServerFiles, state: PersistedServer): void {
  ensurePrivateDir(files.dir);
  replaceFileDurably(files.state, `${JSON.stringify(state)}\n`);
}

export function writeServerSpec(files: ServerFiles, spec: ServerSpec): void {
  ensurePrivateDir(files.dir);
  replaceFileDurably(files.spec, `${JSON.stringify(spec, null, 2)}\n`);
}

/** The kept spec and state; undefined for a file that is missing or unreadable (the error says which). */
export function readServerFiles(files: ServerFiles): {
  spec: ServerSpec | undefined;
  state: PersistedServer | undefined;
  problems: string[];
} {
  const problems: string[] = [];
  const read = <T>(path: string, schema: z.ZodType<T>): T | undefined => {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
    try {
      return schema.parse(JSON.parse(text));
    } catch (error) {
      problems.push(`${path}: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
  };
  return {
    spec: read(files.spec, ServerSpecSchema),
    state: read(files.state, PersistedServerSchema),
    problems,
  };
}
