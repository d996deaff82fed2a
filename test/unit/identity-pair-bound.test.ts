/**
 * Scoring a pair stops as soon as what its comparisons answered so far, and the most the others
 * could add, cannot reach the review threshold (`probabilistic/pairs.ts`). That is a shortcut
 * only: every pair at or above the threshold must come out exactly as comparing everything and
 * scoring the whole vector makes it (weight, contributions, household, person evidence), and
 * every pair under it must be left out, whatever the threshold, the prior or the name's frequency.
 */
import path from 'node:path';
import { COMPARISONS, compareRecords, type Comparison } from '../../src/idmap/probabilistic/compare';
import { featuresOf, type HeldValue } from '../../src/idmap/probabilistic/features';
import { loadWeights, modelOf, type NameAdjust } from '../../src/idmap/probabilistic/model';
import { scorePair, type Rec } from '../../src/idmap/probabilistic/pairs';

const weights = loadWeights(path.resolve(__dirname, '../../config/identity-weights.json'));

const phone = (key: string, from: string | null = null, to: string | null = null): HeldValue => ({ kind: 'PHONE', key, from, to });
const email = (key: string): HeldValue => ({ kind: 'EMAIL', key, from: null, to: null });

/** Records that agree and differ in every way the comparisons tell apart. */
const people: Array<[string | null, string | null, string | null, string | null, HeldValue[]]> = [
  ['张伟', '1990-03-04', 'MALE', '杭州市', [phone('+8613911112222')]],
  ['张伟', '1990-03-04', 'MALE', '杭州', [phone('+8613911112222'), email('zw1990@163.com')]],
  ['Zhang Wei', '1990-04-03', 'MALE', '杭州', [phone('+8613911112223')]],
  ['张伟', '1990-03-04', 'FEMALE', '北京', []],
  ['张玮', '1990-03-04', null, '杭州', [email('zhangwei88@163.com')]],
  ['章伟', null, 'MALE', null, [email('zhangwei88@qq.com')]],
  ['王芳', '1985-04-02', 'FEMALE', '上海', [phone('+8613911112222', '2015-01-01', '2018-01-01')]],
  ['李强', '1983-11-20', 'MALE', '上海', [phone('+8613911112222', '2019-01-01', null)]],
  ['Robert Smith', '1975', 'MALE', 'Boston', [email('rsmith@example.com')]],
  ['Bob Smith', '1975-06-01', null, 'boston city', [email('rsmith@example.org')]],
  ['Sarah Tompson', '1988-12-01', 'FEMALE', null, [phone('+14155550100')]],
  ['Sahra Thompson', '1988-12-11', 'FEMALE', null, [phone('+14155550100')]],
  [null, '1988-12-01', null, null, [phone('+14155550100')]],
  [null, null, null, null, [phone('+8613700001111')]],
  ['欧阳娜娜', '2000-01-02', 'FEMALE', '深圳', []],
  ['Ouyang Nana', '2000-02-01', null, 'shenzhen', [phone('+8613700001111')]],
];
const records: Rec[] = people.map(([name, birthday, gender, city, values], i) => ({
  ...featuresOf('s', `R${String(i).padStart(2, '0')}`, { name, birthday, gender, city }, values),
  customerId: `C${i}`,
  scored: false,
}));

/** What scoring a pair is, without the shortcut: every comparison made, the whole vector scored. */
function plain(x: Rec, y: Rec, model: ReturnType<typeof modelOf>, review: number, name: NameAdjust | undefined) {
  const vector = compareRecords(x, y, model.comparisons);
  const score = model.score(vector, name?.nameCount !== undefined && x.name?.text !== y.name?.text ? { nameFrequency: name.nameFrequency } : name);
  return score.weight < review ? null : score;
}

describe('scoring a pair stops early only where the pair cannot reach review', () => {
  it.each([
    [1_000_000, 3],
    [10_000, 3],
    [1_000_000, 10],
    [1_000_000, -5],
    [10_000, -40],
  ])('at %i records and review %i: the same pairs kept, with the same weights and contributions', (n, review) => {
    const model = modelOf(weights, -20, { records: n });
    let kept = 0;
    for (const x of records) {
      for (const y of records) {
        if (x === y) continue;
        for (const name of [undefined, { nameFrequency: 0.01 }, { nameCount: 2 }, { nameFrequency: 0.01, nameCount: 40 }]) {
          const expected = plain(x, y, model, review, name);
          const got = scorePair(x, x.recordId, y, y.recordId, model, review, name);
          expect(got?.score ?? null).toEqual(expected);
          if (got) kept++;
        }
      }
    }
    expect(kept).toBeGreaterThan(0);
  });

  it('leaves names uncompared for pairs the rest of the evidence already rules out', () => {
    let nameCalls = 0;
    const counted: Comparison[] = COMPARISONS.map((c) => (c.name === 'name' ? { ...c, compare: (a, b) => (nameCalls++, c.compare(a, b)) } : c));
    const model = modelOf(weights, -20, { records: 1_000_000, comparisons: counted });
    let pairs = 0;
    for (const x of records) for (const y of records) if (x !== y && (pairs++, true)) scorePair(x, x.recordId, y, y.recordId, model, 3, undefined);
    expect(nameCalls).toBeGreaterThan(0);
    expect(nameCalls).toBeLessThan(pairs);
  });
});
