/**
 * A birthday as resolution compares it: `normalizeDate`'s reading, with a year of the Buddhist
 * era brought to the common era. Thai forms, ID cards and systems write the year in the Buddhist
 * era (B.E. 2530 is 1987 C.E., 543 years on), so one customer is `15/03/2530` in a Thai system
 * and `1987-03-15` in a web shop; read as written, the two are different birthdays, which the
 * rules take as evidence of two people and the tier weighs against the pair. No one alive was
 * born in a common-era year from 2400, so such a year is read as the Buddhist era whatever the
 * source; any other year is left as it is (a Thai system's `2530` is the only way to tell).
 */
import { normalizeDate } from '../canonical';

/** Years after Buddha's death that the Thai solar calendar counts ahead of the common era. */
export const BUDDHIST_ERA_OFFSET = 543;
/** Buddhist-era years read as such: 2400–2699 B.E., 1857–2156 C.E. */
const FIRST_BE_YEAR = 2400;
const LAST_BE_YEAR = 2699;
const BE_YEAR = /(?<!\d)(2[4-6]\d\d)(?!\d)/;

/** `YYYY-MM-DD` in the common era for a birthday as a source writes it, or null (see `normalizeDate`). */
export function birthDate(raw: unknown): string | null {
  const d = normalizeDate(raw);
  if (d) {
    const y = +d.slice(0, 4);
    return y < FIRST_BE_YEAR || y > LAST_BE_YEAR ? d : normalizeDate(`${y - BUDDHIST_ERA_OFFSET}${d.slice(4)}`);
  }
  // 29 February of a leap year written in the Buddhist era, whose number is no leap year (2531 B.E. = 1988): read it in the common era.
  if (typeof raw !== 'string') return null;
  const m = BE_YEAR.exec(raw);
  return m ? normalizeDate(raw.replace(BE_YEAR, String(+m[1] - BUDDHIST_ERA_OFFSET))) : null;
}
