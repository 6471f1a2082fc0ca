import { parseArgs, type ParseArgsConfig } from 'node:util';

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

/** Options both agent CLIs take: where the credentials are, and help. */
export const LOCATION_OPTIONS = {
  'data-dir': { type: 'string' },
  'credentials-file': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Parses a command's arguments strictly. Answers usage errors (exit 2) and `--help` (exit 0)
 * itself: the command goes on only with `{ values }`.
 */
export function parseCommandArgs<T extends Options>(
  argv: string[],
  options: T,
  usage: string,
  io: CliIo,
): { values: ReturnType<typeof parseArgs<{ options: T; strict: true }>>['values'] } | { exit: number } {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true }));
  } catch (error) {
    io.err(`${messageOf(error)}\n${usage}`);
    return { exit: EXIT.usage };
  }
  if ((values as { help?: boolean }).help) {
    io.out(usage);
    return { exit: EXIT.ok };
  }
  return { values };
}

/** The data-dir and credentials-file settings, from the options first, else the environment. */
export function locationSettings(
  values: { 'data-dir'?: string; 'credentials-file'?: string },
  env: Record<string, string | undefined>,
): { AGENT_DATA_DIR: string | undefined; AGENT_CREDENTIALS_FILE: string | undefined } {
  return {
    AGENT_DATA_DIR: values['data-dir'] ?? env['AGENT_DATA_DIR'],
    AGENT_CREDENTIALS_FILE: values['credentials-file'] ?? env['AGENT_CREDENTIALS_FILE'],
  };
}
