/**
 * Identity scoring: pairwise precision and recall against the ground truth.
 */
import {
  scoreResolution,
  overMerged,
  parseTruthCsv,
  linkableRecall,
  linkableGroups,
  identifyingValues,
  pairsBeyondIdentifying,
  pairsThroughValues,
  valueOfIdentifying,
  missedPairsBySystems,
  pairsBySystemPair,
  scoreBySystems,
  truthOfSystems,
  unsharedPairFigures,
} from '../../demo/score';
import { besideTheGuard, pairClass } from '../../demo/missed-pairs';

const truth = parseTruthCsv(['source,record_id,person_id', 'crm,C1,P1', 'orders,1,P1', 'scrm,o1,P1', 'crm,C2,P2', 'orders,2,P2', 'crm,C3,P3'].join('\n'));

describe('Identity scoring: pairwise figures', () => {
  it('scores a perfect resolution as precision and recall 1', () => {
    const s = scoreResolution(truth, [
      { record: 'crm:C1', customerId: 'a' },
      { record: 'orders:1', customerId: 'a' },
      { record: 'scrm:o1', customerId: 'a' },
      { record: 'crm:C2', customerId: 'b' },
      { record: 'orders:2', customerId: 'b' },
      { record: 'crm:C3', customerId: 'c' },
    ]);
    expect(s).toMatchObject({ precision: 1, recall: 1, f1: 1, truePairs: 4, predictedPairs: 4, overMergedClusters: 0, largestCluster: 3, splitPeople: 0 });
  });

  it('counts a split person against recall only', () => {
    const s = scoreResolution(truth, [
      { record: 'crm:C1', customerId: 'a' },
      { record: 'orders:1', customerId: 'a' },
      { record: 'scrm:o1', customerId: 'x' },
      { record: 'crm:C2', customerId: 'b' },
      { record: 'orders:2', customerId: 'b' },
      { record: 'crm:C3', customerId: 'c' },
    ]);
    expect(s.precision).toBe(1);
    expect(s.recall).toBe(2 / 4);
    expect(s.splitPeople).toBe(1);
  });

  it('counts an over-merge against precision and names the cluster', () => {
    const assignment = [
      { record: 'crm:C1', customerId: 'a' },
      { record: 'orders:1', customerId: 'a' },
      { record: 'scrm:o1', customerId: 'a' },
      { record: 'crm:C2', customerId: 'a' },
      { record: 'orders:2', customerId: 'b' },
      { record: 'crm:C3', customerId: 'c' },
    ];
    const s = scoreResolution(truth, assignment);
    expect(s.predictedPairs).toBe(6);
    expect(s.correctPairs).toBe(3);
    expect(s.precision).toBe(0.5);
    expect(s.overMergedClusters).toBe(1);
    expect(s.largestCluster).toBe(4);
    expect([...overMerged(truth, assignment).keys()]).toEqual(['a']);
  });

  it('reports records the truth does not know instead of scoring them', () => {
    const s = scoreResolution(truth, [{ record: 'crm:C9', customerId: 'z' }]);
    expect(s.unknownRecords).toBe(1);
    expect(s.records).toBe(0);
  });
});

describe('Identity scoring: the recall ceiling of exact matching', () => {
  it('counts pairs joined through a chain of shared values, and not pairs that share nothing', () => {
    const values = [
      { record: 'crm:C1', value: 'PHONE:+8613800138000' },
      { record: 'orders:1', value: 'PHONE:+8613800138000' },
      { record: 'orders:1', value: 'EMAIL:a@b.cn' },
      // scrm:o1 carries nothing the others carry: P1 has 3 pairs, 1 of them linkable
      { record: 'scrm:o1', value: 'UNIONID:u1' },
      // P2 shares a value with P3: not counted, the ceiling is about one person's records
      { record: 'crm:C2', value: 'PHONE:+8613911112222' },
      { record: 'crm:C3', value: 'PHONE:+8613911112222' },
    ];
    expect(linkableRecall(truth, values)).toEqual({ truePairs: 4, linkablePairs: 1, ceiling: 0.25 });
  });

  it("leaves a value several people carry out of the identifying ceiling: it tells no one's records apart", () => {
    const values = [
      // a household's phone on two of P1's records and one of P2's
      { record: 'crm:C1', value: 'PHONE:+8613800138000' },
      { record: 'orders:1', value: 'PHONE:+8613800138000' },
      { record: 'orders:2', value: 'PHONE:+8613800138000' },
      // P2's own email joins P2's two records
      { record: 'crm:C2', value: 'EMAIL:p2@b.cn' },
      { record: 'orders:2', value: 'EMAIL:p2@b.cn' },
    ];
    expect(linkableRecall(truth, values)).toEqual({ truePairs: 4, linkablePairs: 2, ceiling: 0.5 });
    expect(identifyingValues(truth, values)).toEqual(values.slice(3));
    expect(linkableRecall(truth, identifyingValues(truth, values))).toEqual({ truePairs: 4, linkablePairs: 1, ceiling: 0.25 });
  });

  it("joins a person's records through a value several people carry when both carry one name: the name says whose they are", () => {
    const values = [
      // a household's phone on two of P1's records and one of P2's; P1's two both named, P2's too, another name
      { record: 'crm:C1', value: 'PHONE:+8613800138000' },
      { record: 'scrm:o1', value: 'PHONE:+8613800138000' },
      { record: 'orders:1', value: 'PHONE:+8613800138000' },
      { record: 'crm:C2', value: 'PHONE:+8613800138000' },
    ];
    const names: Record<string, string> = { 'crm:C1': 'n1', 'scrm:o1': 'n1', 'crm:C2': 'n2' };
    const identifying = identifyingValues(truth, values, (r) => names[r]);
    // orders:1 has no name: the shared phone cannot say it is P1's, so it joins nothing.
    expect(identifying.map((v) => v.record)).toEqual(['crm:C1', 'scrm:o1', 'crm:C2']);
    expect(identifying.map((v) => valueOfIdentifying(v.value))).toEqual(values.slice(0, 3).map(() => 'PHONE:+8613800138000'));
    // P1: C1–o1 (one name), not orders:1; P2: C2 alone (orders:2 carries no value).
    expect(linkableRecall(truth, identifying)).toEqual({ truePairs: 4, linkablePairs: 1, ceiling: 0.25 });
    expect(linkableRecall(truth, identifyingValues(truth, values))).toEqual({ truePairs: 4, linkablePairs: 0, ceiling: 0 });
  });

  it("counts the ceiling's pairs that only a value several people carry joins, and how many of them were linked all the same", () => {
    const values = [
      // a household's phone: P1's named contact and P1's nameless shop account, and P2's shop account
      { record: 'crm:C1', value: 'PHONE:+8613800138000' },
      { record: 'orders:1', value: 'PHONE:+8613800138000' },
      { record: 'orders:2', value: 'PHONE:+8613800138000' },
      // P1's follower shares P1's own email with the contact; P2's contact P2's own email with P2's shop account
      { record: 'crm:C1', value: 'EMAIL:p1@b.cn' },
      { record: 'scrm:o1', value: 'EMAIL:p1@b.cn' },
      { record: 'crm:C2', value: 'EMAIL:p2@b.cn' },
      { record: 'orders:2', value: 'EMAIL:p2@b.cn' },
    ];
    const names: Record<string, string> = { 'crm:C1': 'n1' };
    const ceiling = linkableGroups(truth, values);
    const identifying = linkableGroups(
      truth,
      identifyingValues(truth, values, (r) => names[r]),
    );
    // P1: C1–o1 through the email; orders:1 only through the household's phone: two pairs beyond (C1–1, o1–1).
    expect(
      linkableRecall(truth, values).linkablePairs -
        linkableRecall(
          truth,
          identifyingValues(truth, values, (r) => names[r]),
        ).linkablePairs,
    ).toBe(2);
    const customers = new Map([
      ['crm:C1', 'a'],
      ['scrm:o1', 'a'],
      ['orders:1', 'a'],
      ['crm:C2', 'b'],
      ['orders:2', 'b'],
    ]);
    expect(pairsBeyondIdentifying(ceiling, identifying, customers)).toEqual({ pairs: 2, linked: 2 });
    customers.set('orders:1', 'c');
    expect(pairsBeyondIdentifying(ceiling, identifying, customers)).toEqual({ pairs: 2, linked: 0 });
    // Without the household's phone nothing lies beyond the identifying ceiling.
    const own = values.slice(3);
    expect(pairsBeyondIdentifying(linkableGroups(truth, own), linkableGroups(truth, identifyingValues(truth, own)), customers)).toEqual({ pairs: 0, linked: 0 });
  });

  it('splits the identifying ceiling at the values the household guard refused: the pairs only they join, and the rest, each with how many were linked', () => {
    const values = [
      // P1's own phone on its contact and shop account: the guard refused it (a second shop account carried it too)
      { record: 'crm:C1', value: 'PHONE:+8613800138000' },
      { record: 'orders:1', value: 'PHONE:+8613800138000' },
      { record: 'crm:C1', value: 'EMAIL:p1@b.cn' },
      { record: 'scrm:o1', value: 'EMAIL:p1@b.cn' },
      { record: 'crm:C2', value: 'EMAIL:p2@b.cn' },
      { record: 'orders:2', value: 'EMAIL:p2@b.cn' },
    ];
    const guard = new Set(['PHONE:+8613800138000']);
    const customers = new Map([
      ['crm:C1', 'a'],
      ['scrm:o1', 'a'],
      ['orders:1', 'c'],
      ['crm:C2', 'b'],
      ['orders:2', 'b'],
    ]);
    // P1: C1–1 and o1–1 only through the refused phone; C1–o1 and P2's pair without it.
    expect(pairsThroughValues(truth, values, guard, customers)).toEqual({ through: { pairs: 2, linked: 0 }, rest: { pairs: 2, linked: 2 } });
    customers.set('orders:1', 'a');
    expect(pairsThroughValues(truth, values, guard, customers).through).toEqual({ pairs: 2, linked: 2 });
    customers.set('scrm:o1', 'd');
    expect(pairsThroughValues(truth, values, guard, customers)).toEqual({ through: { pairs: 2, linked: 1 }, rest: { pairs: 2, linked: 1 } });
    // A value several people carry, joined under one name, is split by its bare value too.
    const named = [...values.slice(2, 4).map((v) => ({ ...v, value: 'PHONE:+8613900139000\u0000n1' })), ...values.slice(4)];
    expect(pairsThroughValues(truth, named, new Set(['PHONE:+8613900139000']), customers)).toEqual({ through: { pairs: 1, linked: 0 }, rest: { pairs: 1, linked: 1 } });
    // No refused value: everything is the rest.
    expect(pairsThroughValues(truth, values, new Set(), customers).through).toEqual({ pairs: 0, linked: 0 });
  });

  it("bounds name matching with one value every named record carries: it joins each person's named records, never two people", () => {
    const values = [
      { record: 'crm:C1', value: 'PHONE:+8613800138000' },
      { record: 'orders:1', value: 'PHONE:+8613800138000' },
      ...['crm:C1', 'scrm:o1', 'crm:C2', 'crm:C3'].map((record) => ({ record, value: 'NAME' })),
    ];
    // P1: all 3 pairs (o1 joins C1 by name, orders:1 by phone); P2: orders:2 has no name, 0 of 1.
    expect(linkableRecall(truth, values)).toEqual({ truePairs: 4, linkablePairs: 3, ceiling: 0.75 });
  });
});

describe('Identity scoring: where recall is lost', () => {
  it('counts the true pairs left apart by the systems of their two records, most first', () => {
    const truth = new Map([
      ['crm:1', 'P1'],
      ['scrm:a', 'P1'],
      ['orders:7', 'P1'],
      ['crm:2', 'P2'],
      ['scrm:b', 'P2'],
      ['orders:8', 'P3'],
      ['orders:9', 'P3'],
    ]);
    const assignment = [
      { record: 'crm:1', customerId: 'X' },
      { record: 'orders:7', customerId: 'X' },
      { record: 'scrm:a', customerId: 'Y' },
      { record: 'crm:2', customerId: 'Z' },
      { record: 'scrm:b', customerId: 'W' },
      { record: 'orders:8', customerId: 'V' },
      // orders:9 was never assigned: its pair is missed too.
    ];
    expect(missedPairsBySystems(truth, assignment)).toEqual([
      { systems: 'crm–scrm', pairs: 2 },
      { systems: 'orders–orders', pairs: 1 },
      { systems: 'orders–scrm', pairs: 1 },
    ]);
  });
});

describe('Identity scoring: by system', () => {
  const truth = new Map([
    ['crm:1', 'P1'],
    ['wecom:a', 'P1'],
    ['marketplace:x', 'P1'],
    ['crm:2', 'P2'],
    ['wecom:b', 'P2'],
    ['marketplace:y', 'P3'],
  ]);
  const assignment = [
    { record: 'crm:1', customerId: 'A' },
    { record: 'wecom:a', customerId: 'A' },
    { record: 'marketplace:x', customerId: 'B' },
    // a household phone: P3's marketplace record joined P2's customer
    { record: 'crm:2', customerId: 'C' },
    { record: 'wecom:b', customerId: 'C' },
    { record: 'marketplace:y', customerId: 'C' },
  ];

  it('counts pairs by the two systems of their records, within one system as n(n-1)/2 and across two as n·m', () => {
    expect(pairsBySystemPair([['crm:1', 'crm:2', 'wecom:a'], ['wecom:b']])).toEqual(
      new Map([
        ['crm–crm', 1],
        ['crm–wecom', 2],
      ]),
    );
  });

  it('restricts the truth to some systems', () => {
    expect([...truthOfSystems(truth, ['crm', 'wecom']).keys()]).toEqual(['crm:1', 'wecom:a', 'crm:2', 'wecom:b']);
  });

  it('agrees with linkableRecall on the groups a chain of shared values connects', () => {
    const values = [
      { record: 'crm:1', value: 'PHONE:1' },
      { record: 'wecom:a', value: 'PHONE:1' },
    ];
    const groups = linkableGroups(truth, values);
    expect(groups.reduce((n, g) => n + (g.length * (g.length - 1)) / 2, 0)).toBe(linkableRecall(truth, values).linkablePairs);
  });

  it('breaks precision, recall and the ceilings down per pair of systems and per system, and sums to the whole', () => {
    const usable = [
      { record: 'crm:1', value: 'PHONE:1' },
      { record: 'wecom:a', value: 'PHONE:1' },
      { record: 'crm:2', value: 'PHONE:2' },
      { record: 'wecom:b', value: 'PHONE:2' },
      { record: 'marketplace:y', value: 'PHONE:2' },
    ];
    const named = [...usable, { record: 'crm:1', value: 'NAME' }, { record: 'marketplace:x', value: 'NAME' }];
    const s = scoreBySystems(truth, assignment, { groups: linkableGroups(truth, usable), withNames: linkableGroups(truth, named) });
    const pair = (k: string) => s.pairs.find((p) => p.systems === k)!;
    expect(pair('crm–wecom')).toMatchObject({ truePairs: 2, predictedPairs: 2, correctPairs: 2, linkablePairs: 2, precision: 1, recall: 1 });
    expect(pair('crm–marketplace')).toMatchObject({ truePairs: 1, predictedPairs: 1, correctPairs: 0, linkablePairs: 0, linkableWithNamesPairs: 1, precision: 0, recall: 0 });
    const market = s.systems.find((x) => x.system === 'marketplace')!;
    // true: x–crm:1, x–wecom:a; predicted: y–crm:2, y–wecom:b (both wrong); with names x joins crm:1, and through its phone wecom:a
    expect(market).toMatchObject({ records: 2, people: 2, truePairs: 2, predictedPairs: 2, correctPairs: 0, ceiling: 0, ceilingWithNames: 1 });
    const whole = scoreResolution(truth, assignment);
    const sum = (f: 'truePairs' | 'predictedPairs' | 'correctPairs') => s.pairs.reduce((n, p) => n + p[f], 0);
    expect([sum('truePairs'), sum('predictedPairs'), sum('correctPairs')]).toEqual([whole.truePairs, whole.predictedPairs, whole.correctPairs]);
  });
});

describe('Identity scoring: pairs that share no identifier', () => {
  // P1's crm and orders records share a phone; its scrm record shares nothing with either. P2's two share nothing.
  const records = [
    { record: 'crm:C1', values: new Set(['PHONE:+8613800000001']) },
    { record: 'orders:1', values: new Set(['PHONE:+8613800000001', 'EMAIL:a@x.cn']) },
    { record: 'scrm:o1', values: new Set<string>() },
    { record: 'crm:C2', values: new Set(['PHONE:+8613800000002']) },
    { record: 'orders:2', values: new Set(['PHONE:+8613800000003']) },
    { record: 'crm:C3', values: new Set(['PHONE:+8613800000004']) },
  ];

  it('counts only the pairs without a shared value, as true pairs and as predicted ones', () => {
    const linked: Record<string, string> = { 'crm:C1': 'a', 'orders:1': 'a', 'scrm:o1': 'a', 'crm:C2': 'b', 'orders:2': 'c', 'crm:C3': 'd' };
    const f = unsharedPairFigures(records, truth, (r) => linked[r] ?? null);
    // True: scrm:o1 with crm:C1 and with orders:1, crm:C2 with orders:2. Found: the first two.
    expect(f).toMatchObject({ truePairs: 3, predicted: 2, found: 2, precision: 1 });
    expect(f.recall).toBeCloseTo(2 / 3, 6);
  });

  it('scores the review queue as accepted when customers are followed to the candidate they merge into, wrong pairs included', () => {
    const linked: Record<string, string> = { 'crm:C1': 'a', 'orders:1': 'a', 'scrm:o1': 'a', 'crm:C2': 'b', 'orders:2': 'c', 'crm:C3': 'd' };
    const accepted: Record<string, string> = { b: 'b', c: 'b', d: 'b', a: 'a' };
    const f = unsharedPairFigures(records, truth, (r) => accepted[linked[r]] ?? null);
    // b, c and d one customer: crm:C2–orders:2 found; crm:C3 with either is a wrong pair.
    expect(f).toMatchObject({ truePairs: 3, found: 3, predicted: 5, recall: 1 });
    expect(f.precision).toBeCloseTo(3 / 5, 6);
    expect(f.f1).toBeCloseTo(0.75, 6);
  });

  it('finds nothing for records no customer holds', () => {
    expect(unsharedPairFigures(records, truth, () => null)).toMatchObject({ truePairs: 3, predicted: 0, found: 0, precision: 0, recall: 0, f1: 0 });
  });
});

describe('Identity scoring: the class of a missed pair inside the ceiling', () => {
  const shared = (...vs: Array<[string, string, number]>) => vs.map(([kind, cause, people]) => ({ kind, cause, people }));
  const none: [boolean, boolean] = [false, false];

  it('calls a pair that shares no value a chain, and one that shares only values of several people a household value', () => {
    expect(pairClass({ a: 'crm:C1', b: 'scrm:o1', shared: [], guarded: none })).toBe('chain');
    expect(pairClass({ a: 'crm:C1', b: 'orders:1', shared: shared(['PHONE', 'name', 2]), guarded: none })).toBe('household value');
  });

  it("tells the household guard's own pair (two records of one system) from the pairs it refuses beside it", () => {
    const guard = shared(['PHONE', 'same-source', 1]);
    expect(pairClass({ a: 'orders:1', b: 'orders:2', shared: guard, guarded: [true, true] })).toBe('one system, nothing else');
    expect(pairClass({ a: 'crm:C1', b: 'orders:2', shared: guard, guarded: [false, true] })).toBe("one of the guard's two");
    expect(pairClass({ a: 'crm:C1', b: 'scrm:o1', shared: guard, guarded: none })).toBe('beside the guard');
  });

  it('names what refused a value of one person: an exclusive kind before a name or birthday, a placeholder, or nothing', () => {
    expect(pairClass({ a: 'crm:C1', b: 'orders:1', shared: shared(['PHONE', 'MEMBER_NO+name', 1]), guarded: none })).toBe('exclusive kind differs');
    expect(pairClass({ a: 'crm:C1', b: 'orders:1', shared: shared(['PHONE', 'birthday+name', 1]), guarded: none })).toBe('names or birthdays differ');
    expect(pairClass({ a: 'crm:C1', b: 'orders:1', shared: shared(['EMAIL', 'refused', 1]), guarded: none })).toBe('blocked or over-shared');
    expect(pairClass({ a: 'crm:C1', b: 'orders:1', shared: shared(['EMAIL', 'no refusal recorded', 1]), guarded: none })).toBe('not refused');
    // A household's value beside one of the person's own: the own value's refusal is the cause.
    expect(pairClass({ a: 'crm:C1', b: 'orders:1', shared: shared(['PHONE', 'name', 2], ['EMAIL', 'UNIONID', 1]), guarded: none })).toBe('exclusive kind differs');
  });
});

describe('Identity scoring: the carriers beside a value the household guard refused', () => {
  // One phone: two shop accounts the guard refused, Wang's CRM contact (named) with her helpdesk
  // user, her own WeChat follower without a name, and her husband's marketplace buyer.
  const truth = new Map([
    ['orders:1', 'wang'],
    ['orders:2', 'li'],
    ['crm:C1', 'wang'],
    ['support:9', 'wang'],
    ['scrm:o1', 'wang'],
    ['marketplace:b1', 'li'],
  ]);
  const customerOf = new Map<string, string | null>([
    ['orders:1', 'K1'],
    ['orders:2', 'K2'],
    ['crm:C1', 'K3'],
    ['support:9', 'K3'],
    ['scrm:o1', 'K4'],
    ['marketplace:b1', null],
  ]);
  const phone = 'PHONE:+8613800000001';
  const input = {
    refused: [{ value: phone, guarded: ['orders:1', 'orders:2'] }],
    carriersOf: new Map([[phone, ['orders:1', 'orders:2', 'crm:C1', 'support:9', 'scrm:o1', 'marketplace:b1']]]),
    customerOf,
    named: new Set(['crm:C1', 'support:9']),
    truth,
  };

  it("counts each nameless carrier's customer as the holder's person's or another's, with the pairs a join would add, the guard's two left out", () => {
    expect(besideTheGuard(input)).toEqual({
      values: { noHolder: 0, oneHolder: 1, severalHolders: 0 },
      carriers: [
        { systems: 'marketplace', holders: 0, others: 1, rightPairs: 0, wrongPairs: 2 },
        { systems: 'scrm', holders: 1, others: 0, rightPairs: 2, wrongPairs: 0 },
      ],
    });
  });

  it('counts no carrier where no customer, or more than one, holds a name', () => {
    expect(besideTheGuard({ ...input, named: new Set<string>() }).values).toEqual({ noHolder: 1, oneHolder: 0, severalHolders: 0 });
    const two = besideTheGuard({ ...input, named: new Set(['crm:C1', 'scrm:o1']) });
    expect(two).toEqual({ values: { noHolder: 0, oneHolder: 0, severalHolders: 1 }, carriers: [] });
  });
});
