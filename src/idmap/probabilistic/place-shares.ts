/**
 * Common places: the cities and postcodes that a larger share of a store's records carry than
 * their place level's u, counted with u on the store's sample (`store-count.ts`) and kept beside
 * it in `idmap_match_chance`, one row per place under a hash of its name (`placeShareKey`: no
 * personal data in the table). The model weighs two records agreeing on such a place by its share
 * (`MatchModel.placeShareOf`), as Splink's term-frequency adjustment weighs a value by its
 * frequency (https://moj-analytical-services.github.io/splink/topic_guides/comparisons/term-frequency.html),
 * but only downwards, as if Splink's `tf_minimum_u_value` were the level's u.
 */
import { hash16 } from '../evidence';
import { MIN_CHANCE_HITS } from './chance';
import type { MatchFeatures } from './features';

/** u of one level (or one common place's share), from how many pairs (or records). */
interface CountedRow {
  comparison: string;
  level: string;
  u: number;
  pairs: number;
  hits: number;
}

/** The place levels whose agreement weighs by the place's own share (`placeShares`), and the feature each compares. */
export const SHARED_PLACES = { city: 'city', postcode: 'postcode' } as const;

/** Marks a count that looked for common places (one made before did not: the store counts again). */
export const PLACE_SHARES_COUNTED = { comparison: 'place.shares', level: 'counted' } as const;

/** The key of a place's share among the counted levels: the level and a hash of the value (no personal data in the table). */
export const placeShareKey = (level: keyof typeof SHARED_PLACES, value: string) => `place.${level}:${hash16(value)}`;

/**
 * Cities and postcodes carried by a larger share of the sampled records that know one than their
 * level's u, the chance that two people's agree there at all (term frequency, as Splink weighs a
 * value: two people in a district of a twentieth of the store agree there one time in twenty,
 * whatever the average place). Only places seen on at least `MIN_CHANCE_HITS` sampled records,
 * and only to take weight away (`MatchModel.placeShareOf`): a rare place's share on a sample is
 * not measured, and the level's u already stands for it.
 */
export function placeShares(sample: readonly MatchFeatures[], levels: readonly CountedRow[]): CountedRow[] {
  const out: CountedRow[] = [];
  for (const level of Object.keys(SHARED_PLACES) as Array<keyof typeof SHARED_PLACES>) {
    const u = levels.find((l) => l.comparison === 'place' && l.level === level)?.u;
    const counts = new Map<string, number>();
    let carriers = 0;
    for (const r of sample) {
      const value = r[SHARED_PLACES[level]];
      if (!value) continue;
      carriers++;
      counts.set(value, (counts.get(value) ?? 0) + 1);
    }
    for (const [value, n] of counts) {
      const share = n / carriers;
      if (n >= MIN_CHANCE_HITS && u !== undefined && share > u) {
        const [comparison, hash] = placeShareKey(level, value).split(':');
        out.push({ comparison, level: hash, u: share, pairs: carriers, hits: n });
      }
    }
  }
  return [...out.sort((a, b) => (a.comparison + a.level < b.comparison + b.level ? -1 : 1)), { ...PLACE_SHARES_COUNTED, u: 1, pairs: sample.length, hits: sample.length }];
}
