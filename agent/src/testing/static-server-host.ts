import type { ServerHost } from '../servers/server-host.js';
import { serverDirectory } from '../servers/server-host.js';

/**
 * A ServerHost of plain directories, for the file handlers' tests: `<root>/<serverId>`, a server
 * "runs" while its id is in `running`, and `exclusive` queues the work of one server.
 */
export class StaticServerHost implements ServerHost {
  readonly running = new Set<string>();
  readonly #queues = new Map<string, Promise<unknown>>();

  constructor(readonly root: string) {}

  directoryOf(serverId: string): string {
    return serverDirectory(this.root, serverId);
  }

  isRunning(serverId: string): boolean {
    return this.running.has(serverId);
  }

  async exclusive<T>(serverId: string, signal: AbortSignal, work: () => Promise<T>): Promise<T> {
    const before = this.#queues.get(serverId) ?? Promise.resolve();
    let release = () => undefined as void;
    const mine = new Promise<void>((done) => (release = done));
    this.#queues.set(
      serverId,
      before.then(() => mine),
    );
    try {
      await Promise.race([
        before,
        new Promise((_, reject) => {
          if (signal.aborted) reject(new Error('aborted while waiting for the server'));
          signal.addEventListener('abort', () => reject(new Error('aborted while waiting for the server')), {
            once: true,
          });
        }),
      ]);
      return await work();
    } finally {
      release();
    }
  }
}
