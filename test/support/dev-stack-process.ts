import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { inheritedEnvironment } from './inherited-environment.js';

/**
 * `npm start`'s developer stack (scripts/dev-stack.ts) run as a developer runs it, for tests of
 * what it starts and prints. Run through tsx directly: scripts/start.mjs only adds `npm install`.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = `${ROOT}node_modules/.bin/tsx`;

export interface DevStackProcess {
  child: ChildProcess;
  /** stdout and stderr lines, in the order they arrived, stderr ones marked `! `. */
  output: string[];
  exited: Promise<number | null>;
  /** Resolves with the first line matching, failing at the deadline or when the stack exits first. */
  waitForLine(match: RegExp, timeoutMs?: number): Promise<string>;
  /** Ctrl-C, as a developer stops it; resolves with the exit code. */
  interrupt(timeoutMs?: number): Promise<number | null>;
}

export function startDevStack(env: Record<string, string>): DevStackProcess {
  const child = spawn(TSX, ['scripts/dev-stack.ts'], {
    cwd: ROOT,
    env: { ...inheritedEnvironment(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => output.push(line));
  createInterface({ input: child.stderr }).on('line', (line) => output.push(`! ${line}`));
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => {
      exitCode = code ?? (signal ? -1 : null);
      resolve(exitCode);
    }),
  );
  const shown = () => output.slice(-60).join('\n');
  return {
    child,
    output,
    exited,
    async waitForLine(match, timeoutMs = 90_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const line = output.find((candidate) => match.test(candidate));
        if (line !== undefined) return line;
        if (exitCode !== undefined)
          throw new Error(`the dev stack exited (${exitCode}) before ${String(match)}\n${shown()}`);
        if (Date.now() > deadline)
          throw new Error(`no line matching ${String(match)} within ${timeoutMs} ms\n${shown()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async interrupt(timeoutMs = 30_000) {
      if (exitCode === undefined) child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
