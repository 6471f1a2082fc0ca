/** Polling with a deadline; apart from test-context.ts (which needs vitest) so that scripts can use it. */
export interface WaitForOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** What is awaited, for the error message. */
  description?: string;
}

/**
 * Polls `predicate` until it returns a truthy value (which it resolves to) or the deadline passes.
 * A predicate that throws counts as "not yet"; its last error is reported at the deadline.
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 50, description = 'condition' }: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      const suffix = lastError === undefined ? '' : `; last error: ${describeError(lastError)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}${suffix}`, {
        cause: lastError,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, remaining)));
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
