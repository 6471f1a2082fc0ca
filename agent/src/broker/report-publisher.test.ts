import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { AgentMessage } from '@meridian/contracts/messages/agent-message';
import { waitFor } from '../../../test/support/wait-for.js';
import type { LogChunkMessage } from '../logs/execution-log.js';
import { DiskSpool } from '../state/disk-spool.js';
import { removeDataDirs, temporaryDataDir } from '../testing/data-dir.js';
import { describeMessage, messagesOf } from '../testing/messages.js';
import { ReportPublisher, UnroutableError } from './report-publisher.js';

afterAll(removeDataDirs);

const logger = pino({ level: 'silent' });

/** A broker stand-in for both exchanges: fails while `down`, records what it confirmed, in order. */
class FakeBroker {
  down = false;
  unroutable = false;
  connected = true;
  attempts = 0;
  readonly confirmed: Array<AgentMessage | LogChunkMessage> = [];
  send(message: AgentMessage | LogChunkMessage): Promise<void> {
    this.attempts++;
    if (this.down) return Promise.reject(new Error('broker down'));
    if (this.unroutable && message.type !== 'LogChunk')
      return Promise.reject(new UnroutableError('no queue'));
    this.confirmed.push(message);
    return Promise.resolve();
  }
  seen(): string[] {
    return this.confirmed.map(describeMessage);
  }
}

function setup(dir = temporaryDataDir(), maxBytes = 1024 * 1024) {
  const broker = new FakeBroker();
  const spool = new DiskSpool({ dir, maxBytes, segmentBytes: 16 * 1024, logger });
  const terminalConfirmed: string[] = [];
  const publisher = new ReportPublisher({
    sender: broker,
    logSender: broker,
    spool,
    isConnected: () => broker.connected,
    onTerminalConfirmed: (message) => terminalConfirmed.push(describeMessage(message)),
    logger,
    retryDelayMs: { min: 5, max: 20 },
  });
  return { broker, spool, publisher, terminalConfirmed, dir };
}

describe('ReportPublisher', () => {
  it('sends directly while the broker confirms; nothing touches the disk', async () => {
    const { broker, spool, publisher, terminalConfirmed } = setup();
    const m = messagesOf();
    await publisher.send(m.chunk(1));
    await publisher.publish(m.completed(0));
    expect(broker.seen()).toEqual(['LogChunk:1-1', 'TaskCompleted:0']);
    expect(terminalConfirmed).toEqual(['TaskCompleted:0']);
    expect(spool.isEmpty).toBe(true);
    publisher.close();
  });

  it('spools while the broker is down and sends everything in order once it is back', async () => {
    const { broker, publisher, spool } = setup();
    const m = messagesOf();
    broker.down = true;
    void publisher.publish(m.progress(0));
    await publisher.send(m.chunk(1)); // log chunks resolve once on disk
    await publisher.send(m.chunk(2));
    let completed = false;
    const end = publisher.publish(m.completed(1)).then(() => (completed = true));
    await waitFor(() => spool.bytes > 0 && broker.attempts > 3, { description: 'retries' });
    expect(completed).toBe(false);

    broker.down = false;
    publisher.wake();
    await end;
    expect(broker.seen()).toEqual(['TaskProgress:0', 'LogChunk:1-1', 'LogChunk:2-2', 'TaskCompleted:1']);
    await waitFor(() => spool.isEmpty, { description: 'an empty spool' });
    // Direct again.
    await publisher.send(m.chunk(3));
    expect(broker.seen().at(-1)).toBe('LogChunk:3-3');
    publisher.close();
  });

  it('does not even try the broker while the connection is down', async () => {
    const { broker, publisher } = setup();
    broker.connected = false;
    await publisher.send(messagesOf().chunk(1));
    expect(broker.attempts).toBe(0);
    broker.connected = true;
    publisher.wake();
    await waitFor(() => broker.confirmed.length === 1, { description: 'the chunk sent' });
    publisher.close();
  });

  it('spools at once what was in flight when the connection was lost, keeping the order', async () => {
    const { broker, publisher, spool } = setup();
    const m = messagesOf();
    // A client that holds sends until it reconnects.
    const held: Array<() => void> = [];
    broker.send = () => new Promise<void>((resolve) => held.push(resolve));
    const first = publisher.send(m.chunk(1));
    const second = publisher.send(m.chunk(2));
    broker.connected = false;
    const third = publisher.send(m.chunk(3));
    publisher.connectionLost();
    await Promise.all([first, second, third]);
    expect(spool.bytes).toBeGreaterThan(0);

    const confirmed: string[] = [];
    broker.send = (message) => {
      confirmed.push(describeMessage(message));
      return Promise.resolve();
    };
    for (const resolve of held) resolve(); // the client delivered them after all: ignored here
    broker.connected = true;
    publisher.wake();
    await waitFor(() => spool.isEmpty, { description: 'an empty spool' });
    expect(confirmed).toEqual(['LogChunk:1-1', 'LogChunk:2-2', 'LogChunk:3-3']);
    publisher.close();
  });

  it('never spools a heartbeat', async () => {
    const { broker, publisher, spool } = setup();
    broker.down = true;
    await publisher.publish(messagesOf().heartbeat());
    expect(spool.isEmpty).toBe(true);
    publisher.close();
  });

  it('keeps retrying an unroutable status report, drops an unroutable progress report', async () => {
    const { broker, publisher } = setup();
    const m = messagesOf();
    broker.unroutable = true;
    await publisher.publish(m.progress(0));
    const end = publisher.publish(m.completed(1));
    await waitFor(() => broker.attempts >= 4, { description: 'retries' });
    broker.unroutable = false;
    await end;
    expect(broker.seen()).toEqual(['TaskCompleted:1']);
    publisher.close();
  });

  it('sends what an earlier process spooled, after a restart', async () => {
    const first = setup();
    const m = messagesOf();
    first.broker.connected = false;
    await first.publisher.send(m.chunk(1));
    void first.publisher.publish(m.completed(0)).catch(() => undefined);
    await waitFor(() => first.spool.bytes > 0, { description: 'the spool' });
    first.publisher.close();
    first.spool.close();

    const second = setup(first.dir);
    await waitFor(() => second.broker.confirmed.length === 2, { description: 'the spooled messages' });
    expect(second.broker.seen()).toEqual(['LogChunk:1-1', 'TaskCompleted:0']);
    expect(second.terminalConfirmed).toEqual(['TaskCompleted:0']);
    second.publisher.close();
  });

  it('announces the log lines dropped from a full spool in the next chunk of their execution', async () => {
    const { broker, publisher, spool } = setup(temporaryDataDir(), 64 * 1024);
    const m = messagesOf();
    broker.connected = false;
    const text = 'y'.repeat(1000);
    for (let seq = 1; seq <= 200; seq++) await publisher.send(m.chunk(seq, 1, text));
    await publisher.publish(m.progress(0));
    expect(spool.stats.droppedLines).toBeGreaterThan(0);

    broker.connected = true;
    publisher.wake();
    await waitFor(() => spool.isEmpty, { description: 'an empty spool' });
    const chunks = broker.confirmed.filter(
      (message): message is LogChunkMessage => message.type === 'LogChunk',
    );
    const seqs = chunks.flatMap((chunk) => chunk.payload.lines.map((line) => line.seq));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(seqs.at(-1)).toBe(200);
    expect(chunks[0]?.payload.droppedBytes).toBe(spool.stats.droppedLines * text.length);
    expect(seqs.length + spool.stats.droppedLines).toBe(200);
    publisher.close();
  });
});
