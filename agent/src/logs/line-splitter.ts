import { LOG_LINE_MAX_BYTES } from '@meridian/contracts/messages/log-chunk';

/**
 * Receives one line: its text without the line ending, its size in bytes of output, and the bytes
 * of input it accounts for (line ending included), so that the sum over lines is the position in
 * the stream up to which everything was emitted.
 */
export type LineCallback = (text: string, bytes: number, consumed: number) => void;

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * Cuts one output stream into lines as it is read. Works on bytes and decodes only whole lines, so
 * a read that ends in the middle of a line or of a UTF-8 character is simply continued by the next
 * one (a newline byte never occurs inside a multi-byte character). A line longer than `maxBytes`
 * is emitted as several lines, cut between characters. `\n` and `\r\n` endings are stripped.
 * Memory: at most `maxBytes + 1` bytes of an unfinished line are held.
 */
export class LineSplitter {
  #partial: Buffer | undefined;

  constructor(private readonly maxBytes: number = LOG_LINE_MAX_BYTES) {}

  push(chunk: Buffer, onLine: LineCallback): void {
    let start = 0;
    for (let newline = chunk.indexOf(NEWLINE); newline !== -1; newline = chunk.indexOf(NEWLINE, start)) {
      if (this.#partial) {
        const line = Buffer.concat([this.#partial, chunk.subarray(start, newline)]);
        this.#partial = undefined;
        this.#emit(line, 0, line.length, onLine, 1);
      } else {
        this.#emit(chunk, start, newline, onLine, 1);
      }
      start = newline + 1;
    }
    if (start < chunk.length) this.#keep(chunk.subarray(start), onLine);
  }

  /** The stream ended: emits what is left as a last line. */
  end(onLine: LineCallback): void {
    const rest = this.#partial;
    this.#partial = undefined;
    if (rest) this.#emit(rest, 0, rest.length, onLine, 0);
  }

  /** Holds the unfinished line, emitting full-size pieces of it so that it never exceeds the limit. */
  #keep(rest: Buffer, onLine: LineCallback): void {
    let partial = this.#partial ? Buffer.concat([this.#partial, rest]) : rest;
    // One byte more than a line may hold: it may be the `\r` of a `\r\n` still to come.
    while (partial.length > this.maxBytes + 1) {
      const cut = characterBoundary(partial, this.maxBytes);
      emitDecoded(partial, 0, cut, this.maxBytes, onLine, cut);
      partial = partial.subarray(cut);
    }
    // A copy, so that a small remainder does not pin the whole read buffer in memory.
    this.#partial = Buffer.from(partial);
  }

  /** `terminator`: bytes of the line ending that follow `end` (1 for `\n`, 0 at the end of the stream). */
  #emit(buffer: Buffer, start: number, end: number, onLine: LineCallback, terminator: number): void {
    const lineEnd = end;
    if (end > start && buffer[end - 1] === CARRIAGE_RETURN) end--;
    while (end - start > this.maxBytes) {
      const cut = start + characterBoundary(buffer.subarray(start, end), this.maxBytes);
      emitDecoded(buffer, start, cut, this.maxBytes, onLine, cut - start);
      start = cut;
    }
    emitDecoded(buffer, start, end, this.maxBytes, onLine, lineEnd - start + terminator);
  }
}

/** The largest offset ≤ `max` at which a UTF-8 character starts (`max` itself if the bytes are not UTF-8). */
function characterBoundary(buffer: Buffer, max: number): number {
  let cut = max;
  // Continuation bytes are 10xxxxxx; a character is at most 4 bytes long.
  while (cut > max - 4 && cut > 0 && ((buffer[cut] ?? 0) & 0xc0) === 0x80) cut--;
  return cut > 0 && cut > max - 4 ? cut : max;
}

function emitDecoded(
  buffer: Buffer,
  start: number,
  end: number,
  maxBytes: number,
  onLine: LineCallback,
  consumed: number,
) {
  const text = buffer.toString('utf8', start, end);
  // Invalid bytes decode to U+FFFD (3 bytes each), which may push the text over the limit.
  if (text.length * 3 <= maxBytes || Buffer.byteLength(text, 'utf8') <= maxBytes) {
    onLine(text, end - start, consumed);
    return;
  }
  const valid = Buffer.from(text, 'utf8');
  for (let offset = 0; offset < valid.length;) {
    const cut = offset + characterBoundary(valid.subarray(offset), Math.min(maxBytes, valid.length - offset));
    // The input these pieces stand for is accounted to the last one.
    onLine(valid.toString('utf8', offset, cut), cut - offset, cut === valid.length ? consumed : 0);
    offset = cut;
  }
}
