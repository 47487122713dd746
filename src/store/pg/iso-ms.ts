/**
 * Times read from the fleet database as milliseconds (date_part('epoch', t) * 1000), made the
 * ISO text SQLite stores: cheaper than the server's iso() (to_char) on the many rows of changes.
 */
/**
 * The SQL of a time column as whole milliseconds since 1970 (an int8): exact for the millisecond
 * times reachprobe writes (a finer fraction is rounded). date_part's float, not extract's exact
 * numeric, which cost a year's 210,240 run times 40 ms more of the server's time.
 */
export const epochMsSql = (column: string) => `(date_part('epoch', ${column}) * 1000)::int8`;

const DAY_MS = 86_400_000;
const days = new Map<number, string>();
const pad2 = Array.from({ length: 60 }, (_v, i) => String(i).padStart(2, "0"));
const pad3 = Array.from({ length: 1000 }, (_v, i) => String(i).padStart(3, "0"));

/**
 * A time in milliseconds since 1970 as the ISO text SQLite stores (Date.prototype.toISOString's),
 * made from a cached date and the time of day: toISOString on a year's 210,240 run times
 * took 250 ms (the report), and iso() in the server as long.
 */
export function isoMs(value: number): string {
  const ms = Math.round(value);
  const day = Math.floor(ms / DAY_MS);
  let date = days.get(day);
  if (date === undefined) days.set(day, (date = new Date(day * DAY_MS).toISOString().slice(0, 11)));
  let rest = ms - day * DAY_MS;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const sec = Math.floor(rest / 1000);
  return `${date}${pad2[h]}:${pad2[m]}:${pad2[sec]}.${pad3[rest - sec * 1000]}Z`;
}
