import { describe, expect, it } from 'vitest';
import { OutputBuffer, captureOutput, createExecutionOutput } from './output-buffer.js';

function fill(buffer: OutputBuffer, chunks: string[]): OutputBuffer {
  for (const chunk of chunks) buffer.append(chunk);
  return buffer;
}

describe('OutputBuffer', () => {
  it.each([
    { name: 'empty', max: 10, chunks: [], text: '', dropped: 0 },
    { name: 'under the limit', max: 10, chunks: ['hello\n'], text: 'hello\n', dropped: 0 },
    { name: 'exactly the limit', max: 10, chunks: ['0123456789'], text: '0123456789', dropped: 0 },
    {
      name: 'one chunk over the limit',
      max: 10,
      chunks: ['0123456789abcdef'],
      text: '01234\n[... 6 bytes truncated ...]\nbcdef',
      dropped: 6,
    },
    {
      name: 'many small chunks',
      max: 6,
      chunks: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'],
      text: 'abc\n[... 3 bytes truncated ...]\nghi',
      dropped: 3,
    },
    {
      name: 'tail spanning chunks',
      max: 8,
      chunks: ['0123', '45', '6789', 'xy'],
      text: '0123\n[... 4 bytes truncated ...]\n89xy',
      dropped: 4,
    },
    {
      name: 'odd limit keeps the larger half as head',
      max: 5,
      chunks: ['abcdefg'],
      text: 'abc\n[... 2 bytes truncated ...]\nfg',
      dropped: 2,
    },
  ])('$name', ({ max, chunks, text, dropped }) => {
    const buffer = fill(new OutputBuffer(max), chunks);
    expect(buffer.toString()).toBe(text);
    expect(buffer.droppedBytes).toBe(dropped);
    expect(buffer.keptBytes).toBeLessThanOrEqual(max);
  });

  it('counts bytes, not characters', () => {
    const buffer = fill(new OutputBuffer(4), ['ééé']); // 6 bytes
    expect(buffer.totalBytes).toBe(6);
    expect(buffer.droppedBytes).toBe(2);
  });

  it('stays bounded when 50 MB are written', () => {
    const buffer = new OutputBuffer(65_536);
    const chunk = Buffer.alloc(64 * 1024, 'x');
    for (let written = 0; written < 50 * 1024 * 1024; written += chunk.length) buffer.append(chunk);
    buffer.append('THE END');
    expect(buffer.keptBytes).toBe(65_536);
    expect(buffer.droppedBytes).toBe(50 * 1024 * 1024 + 7 - 65_536);
    expect(buffer.toString().endsWith('xTHE END')).toBe(true);
  });

  it('does not pin a large chunk in memory through a slice', () => {
    const buffer = new OutputBuffer(10);
    buffer.append(Buffer.alloc(1024 * 1024, 'y'));
    expect(buffer.keptBytes).toBe(10);
    expect(buffer.toString()).toContain('yyyyy');
  });

  it('captures both streams with the sum of dropped bytes', () => {
    const output = createExecutionOutput(4);
    output.stdout.append('abcdef');
    output.stderr.append('123');
    expect(captureOutput(output)).toEqual({
      stdout: 'ab\n[... 2 bytes truncated ...]\nef',
      stderr: '123',
      truncatedBytes: 2,
    });
  });
});
