/** Where a CLI command writes: stdout for results, stderr for errors (tests capture both). */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

export const processIo: CliIo = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
};

/** Exit codes: 0 done, 1 the operation failed, 2 wrong usage. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
