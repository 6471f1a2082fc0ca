import type { LogChunkMessage, LogChunkSender } from '../logs/execution-log.js';

interface Held {
  message: LogChunkMessage;
  resolve(): void;
  reject(error: Error): void;
}

/**
 * A broker stand-in for the log shipper: confirms at once (`confirm`), after `delayMs` (`slow`),
 * holds every chunk until `release()` (`hold`), or refuses it (`fail`). Records what it confirmed.
 */
export class FakeLogSender implements LogChunkSender {
  mode: 'confirm' | 'slow' | 'hold' | 'fail' = 'confirm';
  delayMs = 2;
  readonly confirmed: LogChunkMessage[] = [];
  readonly #held: Held[] = [];
  #maxUnconfirmed = 0;
  #unconfirmed = 0;

  /** Most chunks ever sent and not settled at once. */
  get maxUnconfirmed(): number {
    return this.#maxUnconfirmed;
  }

  get heldCount(): number {
    return this.#held.length;
  }

  send(message: LogChunkMessage): Promise<void> {
    this.#unconfirmed++;
    this.#maxUnconfirmed = Math.max(this.#maxUnconfirmed, this.#unconfirmed);
    const settled = () => void this.#unconfirmed--;
    const promise = new Promise<void>((resolve, reject) => {
      const confirm = () => {
        this.confirmed.push(message);
        resolve();
      };
      if (this.mode === 'confirm') confirm();
      else if (this.mode === 'slow') setTimeout(confirm, this.delayMs);
      else if (this.mode === 'hold') this.#held.push({ message, resolve: confirm, reject });
      else reject(new Error('broker down'));
    });
    promise.then(settled, settled);
    return promise;
  }

  /** Confirms (or fails) what is held, in order, and switches to `mode`. */
  release(mode: 'confirm' | 'fail' = 'confirm'): void {
    this.mode = mode;
    for (const held of this.#held.splice(0)) {
      if (mode === 'confirm') held.resolve();
      else held.reject(new Error('broker down'));
    }
  }

  /** Every confirmed line, in the order confirmed. */
  lines(): LogChunkMessage['payload']['lines'] {
    return this.confirmed.flatMap((chunk) => chunk.payload.lines);
  }
}
