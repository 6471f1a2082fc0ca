/**
 * The middle value of `values` (the mean of the two middle ones for an even count); null for none.
 * A median, not a mean: one run that hung until its timeout does not move the estimate much.
 */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
