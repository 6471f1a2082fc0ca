/** An INSERT/UPDATE/DELETE with its own placeholders `$1…$n`. */
export interface SqlPart {
  sql: string;
  params: unknown[];
}

interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

/**
 * Collects writes and runs them as ONE statement (`WITH w0 AS (…), w1 AS (…) SELECT pg_notify(…)`).
 * A statement is atomic on its own, and on loopback each round trip to PostgreSQL costs more CPU
 * than the statement it carries, so the hot paths send their writes together. The parts must not
 * depend on each other's effects: data-modifying CTEs all see the same snapshot.
 */
export class WriteBatch {
  private readonly parts: SqlPart[] = [];
  private readonly channels = new Set<string>();

  add(part: SqlPart | null): this {
    if (part) this.parts.push(part);
    return this;
  }

  /** NOTIFY on commit of the surrounding transaction (or of the statement itself). */
  notify(channel: string): this {
    this.channels.add(channel);
    return this;
  }

  get isEmpty(): boolean {
    return this.parts.length === 0 && this.channels.size === 0;
  }

  async run(queryable: Queryable): Promise<void> {
    if (this.isEmpty) return;
    const params: unknown[] = [];
    const ctes = this.parts.map((part, index) => {
      const offset = params.length;
      params.push(...part.params);
      return `w${index} AS (${part.sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`)})`;
    });
    const notifications = [...this.channels].map((channel) => {
      params.push(channel);
      return `pg_notify($${params.length}, '')`;
    });
    const select = `SELECT ${notifications.length > 0 ? notifications.join(', ') : '1'}`;
    await queryable.query(ctes.length > 0 ? `WITH ${ctes.join(', ')} ${select}` : select, params);
  }
}
