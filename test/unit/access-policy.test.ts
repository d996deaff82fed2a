/**
 * Access policy: the policy file is checked against the full schema at start-up, and every
 * mistake is reported naming the file and the key.
 */
import { demoRegistry } from '../helpers/registry';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/tmp';
import { buildSchema } from '../../src/schema';
import { DEFAULT_POLICY_FILE, hashKeyWarning, loadPolicy, parsePolicy, PolicyError, sha256Hex } from '../../src/access/policy';

const full = buildSchema(demoRegistry());
const defaultRaw = () => JSON.parse(fs.readFileSync(DEFAULT_POLICY_FILE, 'utf8'));
const tmp = tempDir('policy');

/** Writes a policy file and loads it; answers the error message (or fails the test when it loads). */
function loadError(name: string, policy: unknown): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, JSON.stringify(policy));
  try {
    loadPolicy(file, full);
  } catch (e) {
    expect(e).toBeInstanceOf(PolicyError);
    return (e as Error).message;
  }
  throw new Error(`${name} loaded, but should not have`);
}

const minimal = (role: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  defaults: { limits: { maxDepth: 15, maxAliases: 30, maxCost: 100000, maxIds: 200, defaultListSize: 10 } },
  ...extra,
  roles: { viewer: { grant: { Query: ['customer'], Customer: ['id'] }, ...role } },
});

describe('Access policy: the default policy', () => {
  it('loads against the full schema without warnings, with the six roles', () => {
    const policy = loadPolicy(DEFAULT_POLICY_FILE, full);
    expect([...policy.roles.keys()].sort()).toEqual(['admin', 'analyst', 'finance', 'marketing', 'sales', 'support']);
    expect(policy.warnings).toEqual([]);
  });

  it('classifies the personal fields of the current schema', () => {
    const policy = loadPolicy(DEFAULT_POLICY_FILE, full);
    for (const ref of [
      'CrmContact.name',
      'CrmContact.phone',
      'CrmContact.email',
      'CrmContact.birthday',
      'CrmContact.province',
      'CrmContact.city',
      'ShopAccount.phone',
      'ShopAccount.email',
      'SupportRequester.name',
      'SupportRequester.phone',
      'SupportRequester.email',
      'ScrmFollower.openid',
      'ScrmFollower.unionid',
      'ScrmFollower.nickname',
      'Identifier.value',
      'SourceRecord.recordId',
    ]) {
      expect(policy.personal.has(ref)).toBe(true);
    }
    // Platform pseudonyms: WeChat openids, WeCom external userids, marketplace buyer ids.
    expect(policy.personal.get('SourceRecord.recordId')!.when!.get('source')).toEqual(new Set(['SCRM', 'WECOM', 'MARKETPLACE']));
    expect(policy.personal.has('OrderLine.name')).toBe(false);
  });

  it('gives a row scope to sales only', () => {
    const policy = loadPolicy(DEFAULT_POLICY_FILE, full);
    for (const [name, role] of policy.roles) {
      expect(role.rowScope).toEqual(name === 'sales' ? { kind: 'ownerTeam' } : null);
    }
  });
});

describe('Access policy: invalid files stop start-up naming file and key', () => {
  it('names an unknown type', () => {
    const msg = loadError('unknown-type.json', minimal({ grant: { Query: ['customer'], Customer: ['id'], Custmer: ['id'] } }));
    expect(msg).toContain('unknown-type.json');
    expect(msg).toContain('roles.viewer.grant.Custmer: unknown type "Custmer"');
  });

  it('names an unknown field with its position', () => {
    const msg = loadError('unknown-field.json', minimal({ grant: { Query: ['customer'], Customer: ['id', 'crmContacts'], CrmContact: ['id', 'phne'] } }));
    expect(msg).toContain('unknown-field.json');
    expect(msg).toContain('roles.viewer.grant.CrmContact[1]: unknown field "phne" on CrmContact');
  });

  it('names an unknown role a role extends', () => {
    const msg = loadError('unknown-role.json', minimal({ extends: 'salse' }));
    expect(msg).toContain('unknown-role.json');
    expect(msg).toContain('roles.viewer.extends: unknown role "salse"');
  });

  it('names a role that extends itself', () => {
    const policy = minimal({ extends: 'other' });
    (policy.roles as Record<string, unknown>).other = { extends: 'viewer', grant: { Query: ['customer'], Customer: ['id'] } };
    expect(loadError('cycle.json', policy)).toMatch(/roles\.\w+\.extends: role "\w+" extends itself/);
  });

  it('names a mask on an unknown field, a mask on an object field, and an unknown mask style', () => {
    const msg = loadError('masks.json', minimal({ mask: { 'CrmContact.fone': 'phone', 'Customer.crmContacts': 'redact', 'CrmContact.phone': 'scramble' } }));
    expect(msg).toContain('masks.json');
    expect(msg).toContain('roles.viewer.mask.CrmContact.phone');
    // zod reports the style first; fix it and the schema checks follow.
    const msg2 = loadError('masks2.json', minimal({ mask: { 'CrmContact.fone': 'phone', 'Customer.crmContacts': 'redact' } }));
    expect(msg2).toContain('roles.viewer.mask.CrmContact.fone: unknown field "fone" on CrmContact');
    expect(msg2).toContain('roles.viewer.mask.Customer.crmContacts: only scalar fields can be masked');
  });

  it('names a mask choosing by an enum value that does not exist', () => {
    const msg = loadError('by-parent.json', minimal({ mask: { 'Identifier.value': { byParent: 'kind', styles: { WECHAT_ID: 'hash' }, otherwise: 'none' } } }));
    expect(msg).toContain('roles.viewer.mask.Identifier.value.styles: "WECHAT_ID" is not one of PHONE, EMAIL, OPENID, UNIONID, MEMBER_NO, DEVICE_ID');
  });

  it('warns, without stopping, about a source this deployment does not configure (one policy, several deployments)', () => {
    const dir = tempDir('policy');
    const file = path.join(dir, 'other-source.json');
    fs.writeFileSync(file, JSON.stringify(minimal({ mask: { 'SourceRecord.recordId': { byParent: 'source', styles: { POS_SHANGHAI: 'hash' }, otherwise: 'none' } } })));
    const policy = loadPolicy(file, full);
    expect(policy.warnings.join('\n')).toContain('"POS_SHANGHAI" is not a configured source');
    // A value that cannot be a source name at all is still an error.
    const bad = loadError('lower-case.json', minimal({ mask: { 'SourceRecord.recordId': { byParent: 'source', styles: { wechat: 'hash' }, otherwise: 'none' } } }));
    expect(bad).toContain('"wechat" is not one of');
  });

  it('names a mistyped mask style and the styles there are (zod alone said "Invalid input")', () => {
    const styles = 'the styles are none, phone, email, name, yearOnly, hash, partial, redact';
    expect(loadError('style.json', minimal({ mask: { 'CrmContact.name': 'hsah' } }))).toContain(`roles.viewer.mask.CrmContact.name: unknown mask style "hsah"; ${styles}`);
    const byParent = { byParent: 'source', styles: { SCRM: 'hashed' }, otherwise: 'none' };
    expect(loadError('by-parent.json', minimal({ mask: { 'SourceRecord.recordId': byParent } }))).toContain(
      `roles.viewer.mask.SourceRecord.recordId: styles.SCRM: unknown mask style "hashed"; ${styles}`,
    );
    expect(loadError('number.json', minimal({ mask: { 'CrmContact.name': 3 } }))).toContain(
      'roles.viewer.mask.CrmContact.name: a mask style (none, phone, email, name, yearOnly, hash, partial, redact) or { byParent, styles, otherwise }',
    );
  });

  it('names unknown fields in the personal classification', () => {
    const msg = loadError(
      'personal.json',
      minimal({}, { personal: ['CrmContact.phone', 'Customer.shoeSize', { field: 'SourceRecord.recordId', when: { source: ['wechat'] } }] }),
    );
    expect(msg).toContain('personal[1]: unknown field "shoeSize" on Customer');
    expect(msg).toContain('personal[2].when.source: "wechat" is not one of');
    // A mistyped key of the object form, and a value of neither form, say so (zod alone said "Invalid input").
    expect(loadError('personal-typo.json', minimal({}, { personal: [{ fiel: 'SourceRecord.recordId', when: { source: ['SCRM'] } }] }))).toContain(
      'personal.0: field: Invalid input: expected string, received undefined; Unrecognized key: "fiel"',
    );
    expect(loadError('personal-number.json', minimal({}, { personal: [7] }))).toContain('personal.0: "Type.field", or { field: "Type.field", when: { sibling: [values] } }');
  });

  it('names a bad role name and a bad limit', () => {
    const bad = minimal({ limits: { maxDepth: 0 } });
    (bad.roles as Record<string, unknown>)['Sales Team'] = { grant: {} };
    const msg = loadError('shape.json', bad);
    expect(msg).toContain('shape.json');
    expect(msg).toContain('roles.Sales Team');
    expect(msg).toContain('roles.viewer.limits.maxDepth');
  });

  it('reports a file that is not JSON', () => {
    const file = path.join(tmp, 'broken.json');
    fs.writeFileSync(file, '{ "roles": ');
    expect(() => loadPolicy(file, full)).toThrow(/broken\.json: not valid JSON/);
  });

  it('requires a safelist for persisted-only roles, and checks its hashes', () => {
    expect(loadError('no-safelist.json', minimal({ persistedOnly: true }))).toContain('roles.viewer.persistedOnly: needs a "safelist" file');
    const query = '{ customer(id: "c1") { id } }';
    fs.writeFileSync(path.join(tmp, 'safelist-bad.json'), JSON.stringify({ [sha256Hex('something else')]: query }));
    expect(loadError('bad-safelist.json', minimal({ persistedOnly: true }, { safelist: 'safelist-bad.json' }))).toContain('is not the sha256 of its query');
    fs.writeFileSync(path.join(tmp, 'safelist-ok.json'), JSON.stringify({ [sha256Hex(query)]: query }));
    fs.writeFileSync(path.join(tmp, 'ok.json'), JSON.stringify(minimal({ persistedOnly: true }, { safelist: 'safelist-ok.json' })));
    expect(loadPolicy(path.join(tmp, 'ok.json'), full).safelist.get(sha256Hex(query))).toBe(query);
  });
});

describe('Access policy: grants', () => {
  const parse = (role: Record<string, unknown>, extra: Record<string, unknown> = {}) => parsePolicy(minimal(role, extra), 'test.json', full).roles.get('viewer')!;

  it('never grants a personal field through a wildcard', () => {
    const role = parse({ grant: { Query: ['customer'], Customer: ['*'], CrmContact: ['*'] } });
    const crm = role.fields.get('CrmContact')!;
    expect(crm.has('tier')).toBe(true);
    for (const f of ['name', 'phone', 'email', 'birthday', 'province', 'city']) expect(crm.has(f)).toBe(false);
  });

  it('grants a masked field, masked', () => {
    const role = parse({ mask: { 'CrmContact.phone': 'phone' } });
    expect(role.fields.get('CrmContact')!.has('phone')).toBe(true);
    expect(role.masks.get('CrmContact.phone')).toEqual({ kind: 'style', style: 'phone' });
  });

  it('treats an unclassified field named like personal data as personal, with a warning', () => {
    const policy = parsePolicy(minimal({ grant: { Query: ['customer'], Customer: ['id'], CrmContact: ['*'] } }), 'test.json', full);
    expect(policy.personal.has('CrmContact.phone')).toBe(true);
    expect(policy.warnings.join('\n')).toContain('CrmContact.phone looks like personal data and is not classified');
    expect(policy.roles.get('viewer')!.fields.get('CrmContact')!.has('phone')).toBe(false);
  });

  it('lets a role extend another, adding grants and unmasking with "none"', () => {
    const raw = minimal({});
    (raw.roles as Record<string, unknown>).lead = { extends: 'viewer', grant: { CrmContact: ['tier'] }, mask: { 'CrmContact.phone': 'none' } };
    (raw.roles.viewer as Record<string, unknown>).mask = { 'CrmContact.phone': 'phone', 'CrmContact.email': 'email' };
    (raw.roles.viewer as Record<string, unknown>).rowScope = { kind: 'ownerTeam' };
    const lead = parsePolicy(raw, 'test.json', full).roles.get('lead')!;
    expect([...lead.fields.get('CrmContact')!].sort()).toEqual(['email', 'phone', 'tier']);
    expect(lead.masks.has('CrmContact.phone')).toBe(false);
    expect(lead.masks.get('CrmContact.email')).toEqual({ kind: 'style', style: 'email' });
    expect(lead.rowScope).toEqual({ kind: 'ownerTeam' });
  });

  it('keeps Mutation out of the type wildcard: only a grant naming Mutation gives it', () => {
    const mutations = Object.keys(full.getMutationType()!.getFields());
    expect(mutations).toContain('mergeCustomers');
    expect([...parsePolicy(defaultRaw(), 'access.json', full).roles.get('admin')!.fields.get('Mutation')!]).toEqual(mutations);
    const raw = defaultRaw();
    delete raw.roles.admin.grant.Mutation;
    expect(parsePolicy(raw, 'access.json', full).roles.get('admin')!.fields.has('Mutation')).toBe(false);
  });
});

describe('Access policy: the hash masks’ key', () => {
  const policy = loadPolicy(DEFAULT_POLICY_FILE, full);

  it('warns, naming the roles that hash, when a policy hashes values and access.hashKey is not set', () => {
    const warning = hashKeyWarning(policy, undefined);
    expect(warning).toMatch(/^access\.hashKey is not set: the hash masks of (\w+, )*marketing(, \w+)* use a public key/);
    expect(warning).not.toContain('admin');
  });

  it('says nothing when the key is set, or when no role hashes anything', () => {
    expect(hashKeyWarning(policy, 'a-key-from-the-environment')).toBeNull();
    expect(hashKeyWarning(parsePolicy(minimal({ grant: { Query: ['customer'], Customer: ['id'] } }), 'test.json', full), undefined)).toBeNull();
  });
});
