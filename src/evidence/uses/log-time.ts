const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };
const LOG_TIME = /^(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))? ([+-])(\d{2})(\d{2})$/;

/**
 * Apache's `%t` (and nginx's `$time_local`, S3's `[%d/%b/%Y:%H:%M:%S %z]`) without the brackets,
 * e.g. `10/Oct/2000:13:55:36 -0700`, to ms since the epoch; undefined if it is not one.
 */
export function parseLogTime(text: string): number | undefined {
  const match = LOG_TIME.exec(text);
  if (!match) return undefined;
  const month = MONTHS[match[2]!];
  if (month === undefined) return undefined;
  const [day, year, hour, minute, second] = [match[1], match[3], match[4], match[5], match[6]].map(Number) as [number, number, number, number, number];
  if (day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined;
  const fraction = match[7] === undefined ? 0 : Math.floor(Number(`0.${match[7]}`) * 1000);
  const offset = (match[8] === "-" ? -1 : 1) * (Number(match[9]) * 60 + Number(match[10])) * 60_000;
  return Date.UTC(year, month, day, hour, minute, second, fraction) - offset;
}
