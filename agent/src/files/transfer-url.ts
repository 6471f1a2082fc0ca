/**
 * A URL as it may appear in an error or a log: scheme, host and path only. Presigned URLs carry
 * their credentials in the query string, which must not end up in a task's result.
 */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/** 4xx: the request itself is wrong (expired URL, no such object): not retryable; others are. */
export function isRetryableStatus(status: number): boolean {
  return !(status >= 400 && status < 500) || status === 408 || status === 429;
}
