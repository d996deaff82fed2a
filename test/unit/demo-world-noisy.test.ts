/**
 * The noisy world profile (demo/world-noisy.ts): the same arguments give the same world, and its
 * German customers' names carry their umlauts and ß the ways real systems keep them.
 */
import { generateNoisyWorld, type NoisyRow, type NoisySystem } from '../../demo/world-noisy';
import { normalizeResidentId } from '../../src/canonical';

const world = generateNoisyWorld(3000, 42);
const rowsOf = (personId: string): NoisyRow[] => {
  const ids = new Set(world.truth.filter(([, , p]) => p === personId).map(([s, id]) => `${s}:${id}`));
  return (Object.entries(world.rows) as Array<[NoisySystem, NoisyRow[]]>).flatMap(([s, rows]) => rows.filter((r) => ids.has(`${s}:${r.id}`)));
};
const germans = world.people.filter((p) => p.german);

describe('the noisy world', () => {
  it('is the same world for the same arguments', () => {
    const again = generateNoisyWorld(3000, 42);
    expect(again.truth).toEqual(world.truth);
    expect(again.rows).toEqual(world.rows);
    expect(generateNoisyWorld(3000, 7).truth).not.toEqual(world.truth);
  });

  it('gives its German customers German names, only them', () => {
    expect(germans.length).toBeGreaterThan(10);
    expect(germans.every((p) => p.international === 'DE' && !p.han)).toBe(true);
    expect(world.people.filter((p) => p.international === 'DE' && !p.han).length).toBe(germans.length);
  });

  it('writes a German name with its umlauts in most records, without them or spelt out (ue, ss) in others', () => {
    const written = { asIs: 0, dropped: 0, spelt: 0 };
    for (const p of germans) {
      const surname = p.german![1];
      if (!/[äöüß]/.test(surname)) continue;
      const dropped = surname.replace(/ß/g, 'ss').normalize('NFD').replace(/\p{M}/gu, '');
      const spelt = surname.replace(/ä/g, 'ae').replace(/ö/g, 'oe').replace(/ü/g, 'ue').replace(/ß/g, 'ss');
      for (const r of rowsOf(p.id)) {
        const name = (r.name ?? '').toLowerCase();
        if (name.includes(surname.toLowerCase())) written.asIs++;
        else if (spelt !== dropped && name.includes(spelt.toLowerCase())) written.spelt++;
        else if (name.includes(dropped.toLowerCase())) written.dropped++;
      }
    }
    expect(written.asIs).toBeGreaterThan(written.dropped);
    expect(written.dropped).toBeGreaterThan(0);
    expect(written.spelt).toBeGreaterThan(0);
  });

  it("gives a person one resident id, valid and carrying the person's birthday, on every membership row that has one", () => {
    let repeated = 0;
    for (const p of world.people) {
      const ids = new Set(rowsOf(p.id).flatMap((r) => (r.resident_id ? [r.resident_id] : [])));
      expect(ids.size).toBeLessThanOrEqual(1);
      for (const id of ids) {
        expect(normalizeResidentId(id)).toBe(id);
        expect(id.slice(6, 14)).toBe(p.birthday.replace(/-/g, ''));
      }
      if (rowsOf(p.id).filter((r) => r.resident_id).length > 1) repeated++;
    }
    expect(repeated).toBeGreaterThan(0);
  });

  it('gives everyone an ASCII email address, a German one spelt without umlauts', () => {
    const emails = world.people.map((p) => p.email).filter((e): e is string => Boolean(e));
    expect(emails.every((e) => /^[\x21-\x7e]+$/.test(e))).toBe(true);
    expect(germans.some((p) => p.email && /(ae|oe|ue|ss)/.test(p.email.split('@')[0]))).toBe(true);
  });
});
