import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'amqplib';
import { managementRequest } from './broker-management.js';
import { findFreePort } from './processes.js';
import { waitFor } from './wait-for.js';

/**
 * A RabbitMQ node of a test's own, for tests that crash or restart the broker: the shared one on
 * :5672 serves everybody else and must never be touched. Everything the node needs (epmd, node
 * name, ports, Mnesia, logs, cookie) lives under one temporary folder; restarting on the same
 * folder keeps durable queues and persistent messages, as a real broker restart does.
 * See /work/shared/infra-recipes.md for where each variable comes from.
 */
export interface PrivateRabbitMq {
  /** `amqp://guest:guest@127.0.0.1:PORT` */
  url: string;
  /**
   * With `{ management: true }`: `http://guest:guest@127.0.0.1:PORT4`, the management API that
   * provisions per-node users (guest may use it from loopback).
   */
  managementUrl?: string;
  port: number;
  dir: string;
  /** OS pid of the Erlang VM (beam.smp) while it runs. */
  beamPid(): number | undefined;
  /** kill -9 of the VM: no goodbye to clients, as on a crash or a power loss. */
  crash(): Promise<void>;
  /** Starts the node again on the same folder and waits until it serves AMQP. */
  start(): Promise<void>;
  /** Graceful stop (SIGTERM to the start script); SIGKILL after a deadline. */
  stop(): Promise<void>;
  /** Stops the node and its epmd and deletes the folder. */
  destroy(): Promise<void>;
  /** The last lines of the node's console output, for error messages. */
  output(): string;
}

export const RABBITMQ_SERVER = process.env['RABBITMQ_SERVER'] ?? '/usr/lib/rabbitmq/bin/rabbitmq-server';
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
const live = new Set<() => void>();

export interface PrivateRabbitMqOptions {
  /** Enables `rabbitmq_management` (a few seconds more to start): per-node users and permissions. */
  management?: boolean;
}

export async function startPrivateRabbitMq(options: PrivateRabbitMqOptions = {}): Promise<PrivateRabbitMq> {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-rabbitmq-'));
  const [port, distPort, epmdPort] = await threeFreePorts();
  const managementPort = options.management ? await findFreePort() : undefined;
  const name = `meridian-${port}@localhost`;
  for (const sub of ['home', 'mnesia', 'log']) mkdirSync(join(dir, sub));
  writeFileSync(
    join(dir, 'rabbitmq.conf'),
    [
      `listeners.tcp.1 = 127.0.0.1:${port}`,
      'loopback_users.guest = true',
      'disk_free_limit.absolute = 200MB',
      'log.console = false',
      'log.file.level = warning',
      ...(managementPort === undefined
        ? []
        : [`management.tcp.port = ${managementPort}`, 'management.tcp.ip = 127.0.0.1']),
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'enabled_plugins'), options.management ? '[rabbitmq_management].\n' : '[].\n');
  writeFileSync(join(dir, 'advanced.config'), '[].\n');
  writeFileSync(join(dir, 'rabbitmq-env.conf'), '');
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    LANG: 'C.UTF-8',
    HOME: join(dir, 'home'),
    RABBITMQ_NODENAME: name,
    RABBITMQ_USE_LONGNAME: 'false',
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    ERL_EPMD_PORT: String(epmdPort),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_PID_FILE: join(dir, 'rabbitmq.pid'),
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
  };
  const url = `amqp://guest:guest@127.0.0.1:${port}`;
  const managementUrl =
    managementPort === undefined ? undefined : `http://guest:guest@127.0.0.1:${managementPort}`;
  const consoleLog = join(dir, 'console.log');

  const epmd = spawnDetached('epmd', ['-address', '127.0.0.1', '-port', String(epmdPort)], env, consoleLog);
  let server: ChildProcess | undefined;
  let serverExited: Promise<void> = Promise.resolve();

  const beamPid = (): number | undefined => {
    try {
      const pid = Number(readFileSync(join(dir, 'rabbitmq.pid'), 'utf8').trim());
      return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
    } catch {
      return undefined;
    }
  };
  const output = () => tail(consoleLog);

  const start = async () => {
    rmSync(join(dir, 'rabbitmq.pid'), { force: true });
    server = spawnDetached(RABBITMQ_SERVER, [], env, consoleLog);
    const child = server;
    serverExited = new Promise((resolve) => child.once('exit', () => resolve()));
    let exited = false;
    void serverExited.then(() => (exited = true));
    await waitFor(
      async () => {
        if (exited) throw new Error(`rabbitmq-server exited during start-up\n${output()}`);
        return (
          (await isServing(url)) && (managementUrl === undefined || (await managementAnswers(managementUrl)))
        );
      },
      { timeoutMs: READY_TIMEOUT_MS, intervalMs: 250, description: `private RabbitMQ on :${port}` },
    ).catch((error: unknown) => {
      throw new Error(`${error instanceof Error ? error.message : String(error)}\n${output()}`);
    });
  };

  const killServer = (signal: NodeJS.Signals) => {
    const beam = beamPid();
    if (beam !== undefined) killQuietly(beam, signal);
    if (server?.pid !== undefined) killQuietly(-server.pid, signal);
  };

  const stop = async () => {
    if (server?.pid !== undefined && server.exitCode === null && server.signalCode === null) {
      killQuietly(server.pid, 'SIGTERM');
      const stopped = await Promise.race([
        serverExited.then(() => true),
        new Promise<false>((resolve) => setTimeout(() => resolve(false), STOP_TIMEOUT_MS).unref()),
      ]);
      if (!stopped) killServer('SIGKILL');
    }
    const beam = beamPid();
    if (beam !== undefined) killQuietly(beam, 'SIGKILL');
  };

  const emergencyStop = () => {
    killServer('SIGKILL');
    if (epmd.pid !== undefined) killQuietly(epmd.pid, 'SIGKILL');
  };
  live.add(emergencyStop);

  const broker: PrivateRabbitMq = {
    url,
    ...(managementUrl === undefined ? {} : { managementUrl }),
    port,
    dir,
    beamPid,
    output,
    start,
    stop,
    async crash() {
      const beam = beamPid();
      if (beam === undefined) throw new Error('the private RabbitMQ is not running');
      process.kill(beam, 'SIGKILL');
      await waitFor(() => !isAlive(beam), { description: `beam.smp ${beam} to die` });
      await serverExited;
    },
    async destroy() {
      try {
        await stop();
      } finally {
        if (epmd.pid !== undefined) killQuietly(epmd.pid, 'SIGKILL');
        live.delete(emergencyStop);
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  try {
    await start();
  } catch (error) {
    await broker.destroy();
    throw error;
  }
  return broker;
}

/** Whether an AMQP client can connect and declare an exclusive queue (an open port is not enough). */
async function isServing(url: string): Promise<boolean> {
  const connection = await connect(url, { timeout: 2_000 });
  try {
    const channel = await connection.createChannel();
    await channel.assertQueue('', { exclusive: true });
    return true;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** Whether the management API answers an authenticated overview request. */
async function managementAnswers(managementUrl: string): Promise<boolean> {
  try {
    return (await managementRequest(managementUrl, 'GET', '/api/overview')).status === 200;
  } catch {
    return false;
  }
}

function spawnDetached(file: string, args: string[], env: Record<string, string>, logFile: string) {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(file, args, { env, detached: true, stdio: ['ignore', fd, fd] });
    child.on('error', () => undefined);
    return child;
  } finally {
    closeSync(fd);
  }
}

async function threeFreePorts(): Promise<[number, number, number]> {
  const ports = new Set<number>();
  while (ports.size < 3) ports.add(await findFreePort());
  const [a = 0, b = 0, c = 0] = ports;
  return [a, b, c];
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no output)';
  }
}

// Last resort when a test process exits without teardown: the broker would outlive it.
process.once('exit', () => {
  for (const stop of live) stop();
});
