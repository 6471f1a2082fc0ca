/*
 * A backup's id: its UTC creation time and 8 random hex digits, `20250301T101500Z-1a2b3c4d`. The
 * time first, so ids sort by age; the random part keeps two backups of one second apart.
 */

const ID_PATTERN = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-[0-9a-f]{8}$/;

export function backupIdOf(createdAt: Date, randomHex: string): string {
  if (!/^[0-9a-f]{8}$/.test(randomHex)) throw new Error('a backup id needs 8 lower-case hex digits');
  const stamp = createdAt
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  return `${stamp}-${randomHex}`;
}

/** The creation time in an id made by `backupIdOf`, or undefined for any other name. */
export function backupTimeOf(backupId: string): Date | undefined {
  const parts = ID_PATTERN.exec(backupId);
  if (!parts) return undefined;
  const [, year, month, day, hour, minute, second] = parts;
  return new Date(`${year}-${month}-${day}T${hour}:${minute}:${second}Z`);
}
