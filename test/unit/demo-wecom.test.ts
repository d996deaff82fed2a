import knex from 'knex';
import { system } from '../../demo/systems/wecom';
import { STAFF, TAGS, UNIONID_DISCLOSED, present, rowsFor, type WecomContactRow, type WecomFollowRow } from '../../demo/systems/wecom/rows';
import { TABLES } from '../../demo/systems/wecom/schema';
import { Rng, generatePeople, parseAsOf, type Person } from '../../demo/world';

const SEED = 42;
const PEOPLE = 4000;
const ASOF = '2026-01-01';
const ctx = { seed: SEED, people: PEOPLE, asOf: parseAsOf(ASOF) };
const HISTORY_MS = 3 * 365 * 86_400_000;

interface Drawn {
  person: Person;
  rows: { wecom_contacts: WecomContactRow[]; wecom_follows: WecomFollowRow[] } | null;
}

/** Each person's WeCom rows from the system's own stream, keyed by (seed, system, person index). */
function draw(): Drawn[] {
  const out: Drawn[] = [];
  let index = 0;
  for (const { person } of generatePeople({ people: PEOPLE, seed: SEED, asOf: ASOF })) {
    const rng = new Rng([SEED, 7, index++]);
    out.push({ person, rows: present(person, rng) ? rowsFor(person, rng, ctx) : null });
  }
  return out;
}

let world: Drawn[];
beforeAll(() => {
  world = draw();
});

const contactsOf = (d: Drawn[]) => d.filter((x) => x.rows !== null) as Array<Drawn & { rows: NonNullable<Drawn['rows']> }>;

describe('Demo WeCom: rows', () => {
  it('draws the same rows for the same seed and person', () => {
    expect(draw().slice(0, 500)).toEqual(world.slice(0, 500));
  });

  it('gives one contact per present person and 1–3 distinct roster staff, added within the window', () => {
    const staff = new Set(STAFF.map((s) => s.userid));
    for (const { rows } of contactsOf(world)) {
      expect(rows.wecom_contacts).toHaveLength(1);
      const [c] = rows.wecom_contacts;
      expect(c.external_userid).toMatch(/^wm[A-Za-z0-9_-]{30}$/);
      expect(rows.wecom_follows.length).toBeGreaterThanOrEqual(1);
      expect(rows.wecom_follows.length).toBeLessThanOrEqual(3);
      const ids = rows.wecom_follows.map((f) => f.userid);
      expect(new Set(ids).size).toBe(ids.length);
      for (const f of rows.wecom_follows) {
        expect(staff.has(f.userid)).toBe(true);
        expect(f.external_userid).toBe(c.external_userid);
        expect(f.createtime * 1000).toBeGreaterThanOrEqual(ctx.asOf - HISTORY_MS);
        expect(f.createtime * 1000).toBeLessThan(ctx.asOf);
        for (const t of JSON.parse(f.tag_ids)) expect(TAGS.map((x) => x.tag_id)).toContain(t);
      }
    }
    const externalIds = contactsOf(world).map((d) => d.rows.wecom_contacts[0].external_userid);
    expect(new Set(externalIds).size).toBe(externalIds.length);
  });

  it("notes only the person's own phones (current or older) or the household's, and only their own unionid", () => {
    let oldPhones = 0;
    for (const { person, rows } of contactsOf(world)) {
      const c = rows.wecom_contacts[0];
      expect(person.unionid).not.toBeNull();
      expect([null, person.unionid]).toContain(c.unionid);
      const own = person.phones.map((p) => p.number);
      for (const f of rows.wecom_follows) {
        for (const typed of JSON.parse(f.remark_mobiles) as string[]) {
          const digits = typed.replace(/\D/g, '').replace(/^86(?=1\d{10}$)/, '');
          expect([...own, person.sharedPhone]).toContain(digits);
          if (own.length > 1 && digits !== own[own.length - 1]) oldPhones++;
        }
      }
    }
    // People who changed their number after a staff member noted it leave the old one behind.
    expect(oldPhones).toBeGreaterThan(0);
  });

  it('makes about a quarter of people contacts, engaged ones more often than casual ones', () => {
    const share = (d: Drawn[]) => contactsOf(d).length / d.length;
    expect(share(world)).toBeGreaterThan(0.15);
    expect(share(world)).toBeLessThan(0.35);
    const engaged = share(world.filter((d) => d.person.segment === 'engaged'));
    const casual = share(world.filter((d) => d.person.segment === 'casual'));
    expect(engaged).toBeGreaterThan(casual * 1.5);
    // External contacts are WeChat users.
    expect(world.filter((d) => d.rows && !d.person.unionid)).toEqual([]);
  });

  it('discloses the unionid for roughly half of the contacts', () => {
    const contacts = contactsOf(world);
    const withUnionid = contacts.filter((d) => d.rows.wecom_contacts[0].unionid !== null).length / contacts.length;
    expect(withUnionid).toBeGreaterThan(0.4);
    expect(withUnionid).toBeLessThan(0.6);
    expect(Math.min(...Object.values(UNIONID_DISCLOSED))).toBeGreaterThan(0.3);
  });

  it('fits the store: rows insert into the tables createTables makes, and record ids come from them', async () => {
    const db = knex({ client: 'better-sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true });
    try {
      await system.createTables(db);
      const sample = contactsOf(world).slice(0, 200);
      for (const table of Object.keys(TABLES) as Array<keyof typeof TABLES>) {
        const rows: Array<Record<string, unknown>> = sample.flatMap((d) => d.rows[table] as Array<Record<string, unknown>>);
        for (const r of rows) expect(Object.keys(r)).toEqual([...TABLES[table]]);
        await db(table).insert(rows);
      }
      const stored = await db(system.records.table).select();
      expect(stored.map(system.records.id).sort()).toEqual(sample.map((d) => d.rows.wecom_contacts[0].external_userid).sort());
      expect((await db('wecom_staff').count({ n: '*' }))[0].n).toBe(STAFF.length);
    } finally {
      await db.destroy();
    }
  });
});

describe('Demo WeCom: system', () => {
  it('declares the wecom kind and the stand-in credentials it serves', () => {
    expect(system).toMatchObject({ name: 'wecom', store: 'wecom', kind: 'wecom' });
    const o = system.sourceOptions('http://127.0.0.1:1234');
    expect(o).toMatchObject({ baseUrl: 'http://127.0.0.1:1234', corpSecret: 'demo-wecom-secret', timeoutMs: 10000 });
    expect(String(o.corpId)).toMatch(/^wwdemo/);
  });
});
