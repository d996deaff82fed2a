/**
 * Unix milliseconds as ISO-8601 UTC, exactly as `new Date(ms).toISOString()` writes them, about
 * five times faster: every time a connector maps from a source row (created, updated, placed,
 * registered) goes through here, about ten thousand per thousand-customer list, and V8's
 * `toISOString` (a Date and a formatted string in C++) was 4% of such a request's CPU.
 * Times outside 1970–9999 are left to `toISOString` (its RangeError included).
 */

const TWO = Array.from({ length: 100 }, (_, i) => (i < 10 ? `0${i}` : String(i)));
const THREE = Array.from({ length: 1000 }, (_, i) => (i < 10 ? `00${i}` : i < 100 ? `0${i}` : String(i)));
const DAY_MS = 86_400_000;
/** 10000-01-01T00:00:00Z. */
const END_MS = 253_402_300_800_000;

export function isoFromMillis(ms: number): string {
  // As the Date constructor clips a time: toward zero, to whole milliseconds.
  const t = Math.trunc(ms);
  if (!(t >= 0 && t < END_MS)) return new Date(ms).toISOString();
  const days = Math.floor(t / DAY_MS);
  let rest = t - days * DAY_MS;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  const millis = rest - seconds * 1000;
  // The civil date of a day number (H. Hinnant's days_from_civil, inverted), from an era of 400 years.
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return `${year}-${TWO[month]}-${TWO[day]}T${TWO[hours]}:${TWO[minutes]}:${TWO[seconds]}.${THREE[millis]}Z`;
}
