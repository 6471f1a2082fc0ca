/**
 * Keeps at most `maxBytes` of UTF-8 text: the head and the tail, with a marker saying how many
 * bytes were dropped in between. Returns the kept text and the number of bytes dropped.
 */
export function clampText(text: string, maxBytes: number): { text: string; droppedBytes: number } {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return { text, droppedBytes: 0 };
  const half = Math.floor(maxBytes / 2);
  const dropped = bytes.length - 2 * half;
  const head = bytes
    .subarray(0, half)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
  const tail = bytes
    .subarray(bytes.length - half)
    .toString('utf8')
    .replace(/^\uFFFD/, '');
  return { text: `${head}\n…[${dropped} bytes dropped]…\n${tail}`, droppedBytes: dropped };
}
