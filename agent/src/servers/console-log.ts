import {
  closeSync,
  copyFileSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readSync,
  watch,
  type FSWatcher,
} from 'node:fs';
import { LineSplitter } from '../logs/line-splitter.js';
import { PRIVATE_FILE_MODE } from '../state/durable-file.js';

/** Read again this often when no change notice came. */
const POLL_MS = 250;
const READ_BYTES = 64 * 1024;

/**
 * Follows a server's console log (appended to by its wrapper) from where it ends when followed,
 * cutting what is appended into lines for `onLine`. Past `maxBytes` the log is rotated: copied to
 * `previous` and truncated, so the writer (appending) goes on at the start. Lines written between
 * the copy and the truncation are lost; it is the price of rotating a file someone else writes.
 */
export class ConsoleLog {
  #fd: number | undefined;
  #offset = 0;
  #splitter = new LineSplitter();
  #timer: NodeJS.Timeout | undefined;
  #watcher: FSWatcher | undefined;

  constructor(
    private readonly paths: { current: string; previous: string },
    private readonly maxBytes: number,
    private readonly onLine: (text: string) => void,
  ) {}

  /** Starts following at the current end of the log (created if missing). */
  follow(): void {
    if (this.#fd !== undefined) return;
    this.#fd = openSync(this.paths.current, 'a+', PRIVATE_FILE_MODE);
    this.#offset = fstatSync(this.#fd).size;
    try {
      this.#watcher = watch(this.paths.current, { persistent: false }, () => this.catchUp());
      this.#watcher.on('error', () => undefined);
    } catch {
      // Polling alone then.
    }
    this.#timer = setInterval(() => this.catchUp(), POLL_MS).unref();
  }

  /** Reads what was appended since the last call and hands it on, line by line. */
  catchUp(): void {
    if (this.#fd === undefined) return;
    this.#readFrom(this.#fd);
    if (this.#offset >= this.maxBytes) this.#rotate(this.#fd);
  }

  /** The writer is gone: hands on what is left, an unfinished last line too. */
  flush(): void {
    this.catchUp();
    this.#splitter.end((text) => this.onLine(text));
  }

  close(): void {
    clearInterval(this.#timer);
    this.#watcher?.close();
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  #readFrom(fd: number): void {
    const buffer = Buffer.allocUnsafe(READ_BYTES);
    for (;;) {
      const bytesRead = readSync(fd, buffer, 0, READ_BYTES, this.#offset);
      if (bytesRead === 0) return;
      this.#offset += bytesRead;
      this.#splitter.push(buffer.subarray(0, bytesRead), (text) => this.onLine(text));
    }
  }

  #rotate(fd: number): void {
    copyFileSync(this.paths.current, this.paths.previous);
    // What came between the last read and the copy is in the copy: read it from there.
    const previous = openSync(this.paths.previous, 'r');
    try {
      this.#readFrom(previous);
    } finally {
      closeSync(previous);
    }
    ftruncateSync(fd, 0);
    this.#offset = 0;
  }
}
