import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { ExecutionJournal } from '../state/execution-journal.js';

const created = new Set<string>();

/** A fresh AGENT_DATA_DIR under the system's temporary directory; `removeDataDirs()` deletes them. */
export function temporaryDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-agent-test-'));
  created.add(dir);
  return dir;
}

/** A journal in a fresh temporary directory, for runner tests. */
export function temporaryJournal(): { dataDir: string; journal: ExecutionJournal } {
  const dataDir = temporaryDataDir();
  return { dataDir, journal: new ExecutionJournal({ dir: dataDir, logger: pino({ level: 'silent' }) }) };
}

export function removeDataDirs(): void {
  for (const dir of created) rmSync(dir, { recursive: true, force: true });
  created.clear();
}
