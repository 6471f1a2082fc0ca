import { z } from 'zod';

/*
 * What PostgreSQL can store, and zod schemas that keep everything else out. Text columns refuse
 * NUL; jsonb refuses `\u0000` and lone UTF-16 surrogates (`"\ud800"`); integer columns are 32-bit.
 * Text that programs produce (errors, output, log lines, results) is made storable: NUL and lone
 * surrogates become U+FFFD, so that a program that prints a NUL byte still completes. Text that
 * only a hostile or broken sender can produce (ids, names, types) is refused instead.
 */

/** Bounds of a PostgreSQL `integer` (int4) column. */
export const INT4_MIN = -2_147_483_648;
export const INT4_MAX = 2_147_483_647;

/** U+FFFD, the replacement character: what NUL and lone surrogates become in program text. */
export const REPLACEMENT_CHARACTER = '\uFFFD';

const LONE_SURROGATE = String.raw`[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]`;
const UNSTORABLE = new RegExp(String.raw`\u0000|${LONE_SURROGATE}`, 'g');
const UNSTORABLE_TEST = new RegExp(UNSTORABLE.source);
/** C0 controls and DEL (NUL among them), or a lone surrogate: never in an id or a name. */
const CONTROL_OR_LONE_SURROGATE = new RegExp(String.raw`[\u0000-\u001F\u007F]|${LONE_SURROGATE}`);

/** True when PostgreSQL would refuse `text` in a text or jsonb column. */
export function isUnstorableText(text: string): boolean {
  return UNSTORABLE_TEST.test(text);
}

/** `text` with NUL and lone surrogates replaced by U+FFFD. */
export function toStorableText(text: string): string {
  return UNSTORABLE_TEST.test(text) ? text.replace(UNSTORABLE, REPLACEMENT_CHARACTER) : text;
}

/** True when `text` holds a control character or a lone surrogate. */
export function hasControlCharacter(text: string): boolean {
  return CONTROL_OR_LONE_SURROGATE.test(text);
}

/** Bytes of `text` in UTF-8. */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

function isContinuationByte(byte: number | undefined): boolean {
  return byte !== undefined && (byte & 0xc0) === 0x80;
}

/**
 * Keeps at most `maxBytes` of UTF-8: the head and the tail, with a marker in between saying how
 * many bytes were dropped (the marker counts toward `maxBytes`). Cuts only between characters.
 */
export function clampText(text: string, maxBytes: number): { text: string; droppedBytes: number } {
  if (text.length <= maxBytes / 3 || utf8Bytes(text) <= maxBytes) return { text, droppedBytes: 0 };
  const bytes = Buffer.from(text, 'utf8');
  const markerBytes = utf8Bytes(`\n…[${bytes.length} bytes dropped]…\n`);
  const keep = maxBytes - markerBytes;
  if (keep < 2) {
    let end = Math.max(0, maxBytes);
    while (end > 0 && isContinuationByte(bytes[end])) end -= 1;
    return { text: bytes.subarray(0, end).toString('utf8'), droppedBytes: bytes.length - end };
  }
  let headEnd = Math.floor(keep / 2);
  while (headEnd > 0 && isContinuationByte(bytes[headEnd])) headEnd -= 1;
  let tailStart = bytes.length - Math.floor(keep / 2);
  while (tailStart < bytes.length && isContinuationByte(bytes[tailStart])) tailStart += 1;
  const dropped = tailStart - headEnd;
  const head = bytes.subarray(0, headEnd).toString('utf8');
  const tail = bytes.subarray(tailStart).toString('utf8');
  return { text: `${head}\n…[${dropped} bytes dropped]…\n${tail}`, droppedBytes: dropped };
}

/** Program text: made storable, then clamped to `maxBytes` of UTF-8 (head and tail kept). */
export function toStorableClampedText(text: string, maxBytes: number): string {
  return clampText(toStorableText(text), maxBytes).text;
}

/** Zod: text a program produced. Never refused for its content or length: made storable, clamped. */
export function programText(maxBytes: number) {
  return z.string().transform((text) => toStorableClampedText(text, maxBytes));
}

/**
 * Zod: an id or a name. Refused when empty, longer than `maxLength` characters, or holding a
 * control character or a lone surrogate.
 */
export function identifierText(maxLength: number) {
  return z
    .string()
    .min(1)
    .max(maxLength)
    .refine((text) => !hasControlCharacter(text), 'must not contain control characters (NUL included)');
}

/** Zod: text a person typed (names, descriptions, reasons): any line breaks, but no NUL. */
export function humanText() {
  return z.string().refine((text) => !isUnstorableText(text), 'must not contain NUL or lone surrogates');
}

/** Zod: an integer that fits a PostgreSQL `integer` column, at least `min`. */
export function int4(min: number = INT4_MIN) {
  return z.number().int().min(min).max(INT4_MAX, `must be at most ${INT4_MAX} (a 32-bit integer)`);
}

const EARLIEST_TIME = Date.UTC(1970, 0, 1);
const LATEST_TIME = Date.UTC(10_000, 0, 1);

/**
 * Zod: an ISO-8601 date-time with offset, between 1970 and the end of 9999. PostgreSQL has no year
 * 0000, which the ISO format allows.
 */
export function isoTimestamp() {
  return z.iso.datetime({ offset: true }).refine((text) => {
    const time = Date.parse(text);
    return time >= EARLIEST_TIME && time < LATEST_TIME;
  }, 'must be a time between 1970 and 9999');
}
