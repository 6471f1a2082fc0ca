import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A small "game server" for tests, as a Node script: reads console commands from stdin, prints a
 * ready line after READY_DELAY_MS (default 0), `say X` → `[Server] X`, `save` → writes
 * `world/save-<n>.dat` in its working directory, `stop` → `Stopping server` and exit 0.
 * IGNORE_STOP=1: ignores `stop` and SIGTERM. CRASH_AFTER_MS=n: exits 1 after n ms.
 */
const SCRIPT = `
import { mkdirSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const ignoreStop = process.env.IGNORE_STOP === '1';
if (ignoreStop) process.on('SIGTERM', () => console.log('Ignoring SIGTERM'));
console.log('Starting game server (pid ' + process.pid + ')');
setTimeout(() => console.log('Done (0.12s)! For help, type "help"'), Number(process.env.READY_DELAY_MS ?? 0));
if (process.env.CRASH_AFTER_MS) {
  setTimeout(() => {
    console.log('Crashing');
    process.exit(1);
  }, Number(process.env.CRASH_AFTER_MS));
}
let saves = 0;
createInterface({ input: process.stdin }).on('line', (line) => {
  const [command, ...words] = line.trim().split(' ');
  if (command === 'say') console.log('[Server] ' + words.join(' '));
  else if (command === 'save') {
    saves += 1;
    mkdirSync('world', { recursive: true });
    writeFileSync('world/save-' + saves + '.dat', 'save ' + saves + '\\n');
    console.log('Saved the game (world/save-' + saves + '.dat)');
  } else if (command === 'stop') {
    if (ignoreStop) console.log('Ignoring stop');
    else {
      console.log('Stopping server');
      process.exit(0);
    }
  } else console.log('Unknown command "' + command + '"');
});
`;

/** Writes the script into `dir` and returns the argv that runs it (this Node). */
export function writeGameServer(dir: string): string[] {
  const path = join(dir, 'game-server.mjs');
  writeFileSync(path, SCRIPT);
  return [process.execPath, path];
}

/** The ready line the script prints, as a spec's readyPattern. */
export const GAME_SERVER_READY_PATTERN = 'Done \\(.*\\)! For help';
