#!/usr/bin/env node
// `npm start`: installs dependencies when needed, then runs the developer stack (scripts/dev-stack.ts).
// Plain Node without dependencies on purpose: it runs before `npm install` has.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync, utimesSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const lockFile = join(root, 'package-lock.json');
// npm rewrites this copy of the lock file at every install: its age is the age of node_modules.
const installedLock = join(root, 'node_modules', '.package-lock.json');
const tsx = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'tsx.cmd' : 'tsx');

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`Meridian Tasks needs Node.js 20.19 or newer; this is ${process.version}.`);
  process.exit(1);
}

function needsInstall() {
  if (!existsSync(installedLock) || !existsSync(tsx)) return true;
  return existsSync(lockFile) && statSync(lockFile).mtimeMs > statSync(installedLock).mtimeMs;
}

if (needsInstall()) {
  console.log('Installing dependencies (npm install)…');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const install = spawnSync(npm, ['install'], { cwd: root, stdio: 'inherit' });
  if (install.status !== 0) {
    console.error('npm install failed; fix the error above and run `npm start` again.');
    process.exit(install.status ?? 1);
  }
  // npm may write package-lock.json after its own copy: mark node_modules as current anyway.
  if (existsSync(installedLock)) {
    const now = new Date();
    utimesSync(installedLock, now, now);
  }
}

const child = spawn(tsx, ['scripts/dev-stack.ts', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });

// Ctrl-C in a terminal reaches the child too (same process group); forwarding covers `kill <pid>`.
// The stack treats a repeated signal as the same request to stop.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  });
}

child.on('error', (error) => {
  console.error(`could not start ${tsx}: ${error.message}`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  process.exit(code ?? (signal ? 128 + (constants.signals[signal] ?? 1) : 1));
});
