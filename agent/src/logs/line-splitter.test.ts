import { describe, expect, it } from 'vitest';
import { LOG_LINE_MAX_BYTES } from '@meridian/contracts/messages/log-chunk';
import { LineSplitter } from './line-splitter.js';

/** Pushes the chunks, ends the stream, returns [text, bytes] per line. */
function split(chunks: Array<Buffer | string>, maxBytes?: number): Array<[string, number]> {
  const splitter = new LineSplitter(maxBytes);
  const lines: Array<[string, number]> = [];
  const onLine = (text: string, bytes: number) => lines.push([text, bytes]);
  for (const chunk of chunks) splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk, onLine);
  splitter.end(onLine);
  return lines;
}

const texts = (chunks: Array<Buffer | string>, maxBytes?: number) => split(chunks, maxBytes).map(([t]) => t);

/** Every way of cutting `data` in two. */
function everySplit(data: Buffer): Buffer[][] {
  return Array.from({ length: data.length + 1 }, (_, at) => [data.subarray(0, at), data.subarray(at)]);
}

describe('LineSplitter', () => {
  it.each([
    { name: 'nothing', chunks: [], lines: [] },
    { name: 'one line', chunks: ['hello\n'], lines: ['hello'] },
    { name: 'a last line without newline', chunks: ['a\nb'], lines: ['a', 'b'] },
    { name: 'empty lines', chunks: ['\n\na\n'], lines: ['', '', 'a'] },
    { name: 'CRLF', chunks: ['a\r\nb\r\n'], lines: ['a', 'b'] },
    { name: 'CRLF across reads', chunks: ['a\r', '\nb'], lines: ['a', 'b'] },
    { name: 'a lone CR stays', chunks: ['50%\r100%\n'], lines: ['50%\r100%'] },
    { name: 'a line across three reads', chunks: ['he', 'll', 'o\nworld'], lines: ['hello', 'world'] },
  ])('splits $name', ({ chunks, lines }) => {
    expect(texts(chunks)).toEqual(lines);
  });

  it('puts a multi-byte character cut by a read back together, wherever the cut falls', () => {
    const data = Buffer.from('né 🎉 ok\nzwei\n', 'utf8');
    for (const chunks of everySplit(data)) expect(texts(chunks)).toEqual(['né 🎉 ok', 'zwei']);
  });

  it('counts bytes of output, without the line ending', () => {
    expect(split(['é\r\nab\n'])).toEqual([
      ['é', 2],
      ['ab', 2],
    ]);
  });

  it('splits a line longer than the limit into lines of at most the limit', () => {
    const long = 'x'.repeat(LOG_LINE_MAX_BYTES * 2 + 10);
    const lines = split([`${long}\nshort\n`]);
    expect(lines.map(([, bytes]) => bytes)).toEqual([LOG_LINE_MAX_BYTES, LOG_LINE_MAX_BYTES, 10, 5]);
    expect(lines.map(([text]) => text).join('')).toBe(`${long}short`);
  });

  it('splits a long line the same way whether it comes in one read or byte by byte', () => {
    const data = Buffer.from(`${'ab€'.repeat(7)}\r\n${'y'.repeat(9)}\n`, 'utf8');
    const whole = texts([data], 8);
    const bytewise = texts(
      [...data].map((byte) => Buffer.from([byte])),
      8,
    );
    expect(bytewise).toEqual(whole);
    expect(whole.join('')).toBe(`${'ab€'.repeat(7)}${'y'.repeat(9)}`);
  });

  it('never cuts a character in two when splitting a long line', () => {
    // 3-byte characters: a cut at 8 bytes would fall inside the third one.
    const lines = split(['€€€€€€\n'], 8);
    expect(lines).toEqual([
      ['€€', 6],
      ['€€', 6],
      ['€€', 6],
    ]);
  });

  it('keeps a line of exactly the limit whole, also when its CRLF comes in a later read', () => {
    const line = 'z'.repeat(8);
    expect(texts([`${line}\r`, '\n'], 8)).toEqual([line]);
    expect(texts([`${line}\r\n`], 8)).toEqual([line]);
  });

  it('keeps lines of invalid UTF-8 within the limit once decoded', () => {
    // Each 0xff becomes U+FFFD, three bytes: 8 invalid bytes would decode to 24.
    const lines = split([Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0a])], 8);
    for (const [text] of lines) expect(Buffer.byteLength(text)).toBeLessThanOrEqual(8);
    expect(lines.map(([text]) => text).join('')).toBe('\ufffd'.repeat(8));
  });

  it('holds at most the limit of an endless line', () => {
    const lines = split(
      Array.from({ length: 100 }, () => 'a'.repeat(1000)),
      4096,
    );
    expect(lines.every(([, bytes]) => bytes <= 4096)).toBe(true);
    expect(lines.reduce((sum, [, bytes]) => sum + bytes, 0)).toBe(100_000);
  });

  // A restarted agent reads a program's output file on from the position of the last line it
  // published: the bytes each line accounts for must add up to exactly what was read.
  it.each([
    ['plain lines', ['a\nbb\n', 'ccc\n']],
    ['CRLF cut between reads', ['one\r', '\ntwo\r\n']],
    ['an unfinished last line', ['x\ny']],
    ['a line longer than the limit', ['z'.repeat(LOG_LINE_MAX_BYTES * 2 + 5) + '\r\n']],
    [
      'a long line read in pieces',
      ['w'.repeat(LOG_LINE_MAX_BYTES + 7), 'w'.repeat(LOG_LINE_MAX_BYTES), '\n'],
    ],
    ['invalid UTF-8 past the limit', [Buffer.alloc(LOG_LINE_MAX_BYTES, 0xff), '\n']],
  ])('accounts every byte read to a line: %s', (_name, reads) => {
    const splitter = new LineSplitter();
    let consumed = 0;
    let read = 0;
    const positions: number[] = [];
    for (const data of reads) {
      const buffer = Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8');
      read += buffer.length;
      splitter.push(buffer, (_text, _bytes, lineConsumed) => {
        consumed += lineConsumed;
        positions.push(consumed);
      });
      expect(consumed).toBeLessThanOrEqual(read);
    }
    splitter.end((_text, _bytes, lineConsumed) => (consumed += lineConsumed));
    expect(consumed).toBe(read);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
  });
});
