/** Longest Authorization header read: a broker username and a password fit well within it. */
const MAX_HEADER_LENGTH = 1024;

/** The user and password of an HTTP Basic `Authorization` header (RFC 7617); null when there is none. */
export function parseBasicAuthorization(
  header: string | undefined,
): { username: string; password: string } | null {
  if (header === undefined || header.length > MAX_HEADER_LENGTH) return null;
  const match = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header);
  if (!match) return null;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return null;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
