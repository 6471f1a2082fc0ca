import pg from 'pg';
import type { Logger } from 'pino';

/**
 * Holds one dedicated connection that LISTENs on the given channels and calls the handler of a
 * channel on each NOTIFY. Reconnects after a failure; the polling of the loops covers the gap.
 */
export class NotificationListener {
  private client: pg.Client | null = null;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly databaseUrl: string,
    private readonly handlers: Record<string, () => void>,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.databaseUrl,
      application_name: 'meridian-listener',
    });
    client.on('notification', (message) => this.handlers[message.channel]?.());
    client.on('error', (error) => {
      this.logger.warn({ err: error }, 'notification listener lost its connection');
      this.scheduleReconnect();
    });
    await client.connect();
    for (const channel of Object.keys(this.handlers))
      await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    this.client = client;
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.retryTimer) return;
    void this.client?.end().catch(() => undefined);
    this.client = null;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.start().catch((error: unknown) => {
        this.logger.warn({ err: error }, 'notification listener reconnect failed');
        this.scheduleReconnect();
      });
    }, 1000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.client?.end().catch(() => undefined);
  }
}
