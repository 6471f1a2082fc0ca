import { cpus, totalmem, release } from 'node:os';
import { readFileSync } from 'node:fs';
import { connect } from 'amqplib';
import type pg from 'pg';

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  postgres: string;
  rabbitmq: string;
}

function osName(): string {
  try {
    const match = /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'));
    return `${match?.[1] ?? 'Linux'} (kernel ${release()})`;
  } catch {
    return `kernel ${release()}`;
  }
}

/** AMQP server properties arrive as strings or Buffers depending on the client. */
function versionText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return 'unknown';
}

export async function describeMachine(db: pg.Pool, amqpUrl: string): Promise<MachineInfo> {
  const { rows } = await db.query<{ server_version: string }>('SHOW server_version');
  const connection = await connect(amqpUrl);
  const properties = (connection.connection as unknown as { serverProperties?: Record<string, unknown> })
    .serverProperties;
  await connection.close();
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: osName(),
    node: process.version,
    postgres: rows[0]?.server_version ?? 'unknown',
    rabbitmq: versionText(properties?.['version']),
  };
}
