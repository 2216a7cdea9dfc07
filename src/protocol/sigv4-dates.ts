// SigV4's "basic format" ISO-8601 dates: yyyymmddThhmmssZ (long) and yyyymmdd (short).

const LONG_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

export function toLongDate(date: Date | number): string {
  return new Date(date).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

/** Milliseconds since the epoch, or undefined if `value` is not a valid long date. */
export function parseLongDate(value: string): number | undefined {
  const m = LONG_DATE.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  // Date.UTC rolls 20261345 over into another month; a real timestamp round-trips.
  return toLongDate(ms) === value ? ms : undefined;
}
