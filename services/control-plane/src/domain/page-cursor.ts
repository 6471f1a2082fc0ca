/** Where a newest-first page ended: the last row's creation time and id (ties broken by id). */
export interface PagePosition {
  createdAt: Date;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An opaque cursor: base64url of `<ISO time>|<uuid>`. */
export function encodePageCursor(position: PagePosition): string {
  return Buffer.from(`${position.createdAt.toISOString()}|${position.id}`, 'utf8').toString('base64url');
}

/** The position a cursor names; null for anything `encodePageCursor` did not make. */
export function decodePageCursor(cursor: string): PagePosition | null {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const [time, id, ...rest] = text.split('|');
  if (time === undefined || id === undefined || rest.length > 0 || !UUID.test(id)) return null;
  const createdAt = new Date(time);
  if (Number.isNaN(createdAt.getTime()) || createdAt.toISOString() !== time) return null;
  return { createdAt, id };
}
