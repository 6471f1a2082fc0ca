import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { CapturedOutput } from '@meridian/contracts/messages/agent-events';
import type { OutputSink } from './handlers/handler.js';

/**
 * Captures one output stream in bounded memory: the first half of the limit (head) and the last
 * half (tail) are kept, the bytes in between are only counted. A program printing 50 MB costs
 * `maxBytes` of memory, not 50 MB.
 */
export class OutputBuffer {
  readonly #headLimit: number;
  readonly #tailLimit: number;
  readonly #head: Buffer[] = [];
  #headBytes = 0;
  #tail: Buffer[] = [];
  #tailBytes = 0;
  #totalBytes = 0;

  constructor(maxBytes: number) {
    this.#headLimit = Math.ceil(maxBytes / 2);
    this.#tailLimit = Math.max(0, maxBytes - this.#headLimit);
  }

  append(chunk: Buffer | string): void {
    let data = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    this.#totalBytes += data.length;
    if (this.#headBytes < this.#headLimit) {
      const take = Math.min(this.#headLimit - this.#headBytes, data.length);
      // Copies, so that a slice never pins a large chunk in memory.
      this.#head.push(Buffer.from(data.subarray(0, take)));
      this.#headBytes += take;
      data = data.subarray(take);
    }
    if (data.length === 0 || this.#tailLimit === 0) return;
    if (data.length >= this.#tailLimit) {
      this.#tail = [Buffer.from(data.subarray(data.length - this.#tailLimit))];
      this.#tailBytes = this.#tailLimit;
      return;
    }
    this.#tail.push(Buffer.from(data));
    this.#tailBytes += data.length;
    this.#trimTail();
  }

  /**
   * Counts bytes that were written but are not handed over (the middle of a file read from its
   * head and tail); call between the head and the tail.
   */
  skip(bytes: number): void {
    this.#totalBytes += bytes;
  }

  /** Bytes written but not kept. */
  get droppedBytes(): number {
    return this.#totalBytes - this.#headBytes - this.#tailBytes;
  }

  get totalBytes(): number {
    return this.#totalBytes;
  }

  /** Bytes held in memory. */
  get keptBytes(): number {
    return this.#headBytes + this.#tailBytes;
  }

  /** Head and tail, with a marker line where bytes were dropped. */
  toString(): string {
    const head = Buffer.concat(this.#head).toString('utf8');
    const tail = Buffer.concat(this.#tail).toString('utf8');
    const dropped = this.droppedBytes;
    return dropped > 0 ? `${head}\n[... ${dropped} bytes truncated ...]\n${tail}` : head + tail;
  }

  #trimTail(): void {
    let excess = this.#tailBytes - this.#tailLimit;
    while (excess > 0) {
      const first = this.#tail[0];
      if (first === undefined) return;
      if (first.length <= excess) {
        this.#tail.shift();
        this.#tailBytes -= first.length;
        excess -= first.length;
      } else {
        this.#tail[0] = first.subarray(excess);
        this.#tailBytes -= excess;
        excess = 0;
      }
    }
  }
}

export interface ExecutionOutput {
  stdout: OutputBuffer;
  stderr: OutputBuffer;
}

export function createExecutionOutput(maxBytesPerStream: number): ExecutionOutput {
  return { stdout: new OutputBuffer(maxBytesPerStream), stderr: new OutputBuffer(maxBytesPerStream) };
}

export function captureOutput(output: ExecutionOutput): CapturedOutput {
  return {
    stdout: output.stdout.toString(),
    stderr: output.stderr.toString(),
    truncatedBytes: output.stdout.droppedBytes + output.stderr.droppedBytes,
  };
}

/** One sink writing to several: the captured head/tail and the live log. */
export function teeSink(...sinks: OutputSink[]): OutputSink {
  return { append: (chunk) => sinks.forEach((sink) => sink.append(chunk)) };
}

/** The head/tail capture of an output file, as if it had been appended in full (without reading the middle). */
export function captureFile(path: string, maxBytes: number): OutputBuffer {
  const buffer = new OutputBuffer(maxBytes);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return buffer;
  }
  try {
    const size = fstatSync(fd).size;
    const read = (offset: number, length: number) => {
      const data = Buffer.allocUnsafe(length);
      return data.subarray(0, readSync(fd, data, 0, length, offset));
    };
    if (size <= maxBytes) {
      buffer.append(read(0, size));
    } else {
      const head = Math.ceil(maxBytes / 2);
      buffer.append(read(0, head));
      buffer.skip(size - maxBytes);
      buffer.append(read(size - (maxBytes - head), maxBytes - head));
    }
  } finally {
    closeSync(fd);
  }
  return buffer;
}
