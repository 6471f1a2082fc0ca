/** Deepest nesting of objects and arrays accepted in a message from the broker. */
export const MESSAGE_MAX_DEPTH = 32;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * True when JSON text nests objects and arrays deeper than `maxDepth` (`{}` is depth 1). Scans
 * the raw bytes (or string) once, without parsing, and stops at the first level too deep: run it
 * before `JSON.parse` so that nothing recursive ever sees such a document. Brackets inside strings
 * do not count; malformed JSON is left for the parser to refuse. In UTF-8 every byte of a
 * multi-byte character is ≥ 0x80, so scanning bytes sees the same structure as scanning text.
 */
export function jsonDepthExceeds(json: Uint8Array | string, maxDepth: number): boolean {
  const bytes =
    typeof json === 'string'
      ? Buffer.from(json, 'utf8')
      : Buffer.from(json.buffer, json.byteOffset, json.byteLength);
  const length = bytes.length;
  let depth = 0;
  for (let index = 0; index < length; index += 1) {
    const code = bytes[index];
    if (code === QUOTE) {
      index = endOfString(bytes, index);
      if (index < 0) return false;
    } else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      depth += 1;
      if (depth > maxDepth) return true;
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      depth -= 1;
    }
  }
  return false;
}

/** Index of the quote that closes the string opened at `start`, or -1 when it never closes. */
function endOfString(bytes: Buffer, start: number): number {
  let from = start + 1;
  for (;;) {
    const quote = bytes.indexOf(QUOTE, from);
    if (quote < 0) return -1;
    let backslashes = 0;
    while (bytes[quote - 1 - backslashes] === BACKSLASH) backslashes += 1;
    if (backslashes % 2 === 0) return quote;
    from = quote + 1;
  }
}

/**
 * True when a decoded JSON value nests deeper than `maxDepth`. Walks with a stack of its own, so a
 * value nested 100,000 deep (JSON.parse builds one without complaint) cannot overflow the call stack.
 */
export function jsonValueDepthExceeds(value: unknown, maxDepth: number): boolean {
  const pending: { node: unknown; depth: number }[] = [{ node: value, depth: 0 }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const { node, depth } = next;
    if (node === null || typeof node !== 'object') continue;
    if (depth + 1 > maxDepth) return true;
    for (const child of Object.values(node)) pending.push({ node: child, depth: depth + 1 });
  }
  return false;
}

/** Nesting up to which `encodeJson` leaves the work to `JSON.stringify` (which recurses). */
const NATIVE_ENCODE_MAX_DEPTH = 256;

/**
 * `JSON.stringify` of a decoded JSON value, any depth: a value nested deeper than JSON.stringify's
 * recursion can take (about 10,000 levels) is encoded with a stack of its own instead.
 */
export function encodeJson(value: unknown): string {
  if (!jsonValueDepthExceeds(value, NATIVE_ENCODE_MAX_DEPTH)) return JSON.stringify(value) ?? 'null';
  const out: string[] = [];
  const frames: { close: string; entries: [string | null, unknown][]; index: number }[] = [];
  const open = (node: unknown): void => {
    if (node === null || typeof node !== 'object') {
      out.push(JSON.stringify(node) ?? 'null');
    } else if (Array.isArray(node)) {
      out.push('[');
      frames.push({ close: ']', entries: node.map((item): [null, unknown] => [null, item]), index: 0 });
    } else {
      out.push('{');
      frames.push({ close: '}', entries: Object.entries(node), index: 0 });
    }
  };
  open(value);
  for (let frame = frames.at(-1); frame; frame = frames.at(-1)) {
    const entry = frame.entries[frame.index];
    if (!entry) {
      out.push(frame.close);
      frames.pop();
      continue;
    }
    if (frame.index > 0) out.push(',');
    frame.index += 1;
    if (entry[0] !== null) out.push(JSON.stringify(entry[0]), ':');
    open(entry[1]);
  }
  return out.join('');
}
