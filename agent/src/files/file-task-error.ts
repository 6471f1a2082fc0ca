/**
 * A failure of a file task that the handler reports as is: `retryable` says whether the same task
 * may succeed later (a network error, a 5xx) or cannot (a 4xx, a checksum mismatch, a hostile
 * archive, a path that leaves the server directory).
 */
export class FileTaskError extends Error {
  override name = 'FileTaskError';

  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A failure that trying again cannot mend (bad input, refused content). */
export function refusal(message: string, cause?: unknown): FileTaskError {
  return new FileTaskError(message, false, cause === undefined ? undefined : { cause });
}

/** The message of anything thrown, for a task's error text. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** An aborted signal's reason as an Error (abort reasons may be plain objects). */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error(`aborted (${JSON.stringify(reason) ?? 'no reason'})`);
}
