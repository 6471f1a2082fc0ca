import { watch, type FSWatcher } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { OutputSink } from './handler.js';

/** Bytes read at once; the sink gets them as one chunk. */
const READ_BYTES = 64 * 1024;
/** Re-read this often when no change notice came (a missed inotify event, say). */
const POLL_MS = 250;

/**
 * Follows a file a program writes its output to, from `offset`, handing what it reads to `sink`
 * as it grows (woken by the file system's change notices, polling as a fallback). `finish()`
 * reads what is left once the writer is gone and resolves with the offset reached.
 */
export class FileTail {
  #offset: number;
  #handle: FileHandle | undefined;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #reading: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(
    private readonly path: string,
    private readonly sink: OutputSink,
    offset = 0,
  ) {
    this.#offset = offset;
  }

  get offset(): number {
    return this.#offset;
  }

  async start(): Promise<void> {
    this.#handle = await open(this.path, 'r');
    try {
      this.#watcher = watch(this.path, { persistent: false }, () => this.#wake());
      this.#watcher.on('error', () => undefined);
    } catch {
      // Polling alone then.
    }
    this.#wake();
  }

  /** The writer is gone: reads to the end of the file, stops, and resolves with the final offset. */
  async finish(): Promise<number> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#watcher?.close();
    await this.#reading;
    await this.#readToEnd();
    await this.#handle?.close();
    this.#handle = undefined;
    return this.#offset;
  }

  #wake(): void {
    if (this.#stopped) return;
    if (this.#reading) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#reading = this.#readToEnd().finally(() => {
      this.#reading = undefined;
      if (this.#stopped) return;
      if (this.#again) {
        this.#again = false;
        this.#wake();
      } else {
        this.#timer = setTimeout(() => this.#wake(), POLL_MS);
      }
    });
  }

  async #readToEnd(): Promise<void> {
    const handle = this.#handle;
    if (!handle) return;
    for (;;) {
      const buffer = Buffer.allocUnsafe(READ_BYTES);
      const { bytesRead } = await handle.read(buffer, 0, READ_BYTES, this.#offset);
      if (bytesRead === 0) return;
      this.#offset += bytesRead;
      this.sink.append(buffer.subarray(0, bytesRead));
    }
  }
}
