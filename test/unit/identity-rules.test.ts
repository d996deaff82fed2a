import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/tmp';
import { loadIdentityRules, parseIdentityRules } from '../../src/idmap/rules';
import { birthdayKey, compareNameKeys, nameKey } from '../../src/idmap/evidence';
import type { IdentifierKind } from '../../src/vocabulary';

const RULES_FILE = path.resolve(__dirname, '../../config/identity-rules.json');
const rules = loadIdentityRules(RULES_FILE);
const valid = JSON.parse(fs.readFileSync(RULES_FILE, 'utf8'));

/** Whether a raw value, once normalized, is refused as a placeholder (or is not a value at all). */
function refused(kind: IdentifierKind, raw: string): boolean {
  const n = rules.normalize(kind, raw);
  return n == null || rules.blockedBy(kind, n.matchKey) != null;
}

function writeRules(content: string): string {
  const file = path.join(tempDir('rules'), 'identity-rules.json');
  fs.writeFileSync(file, content);
  return file;
}

describe('Identity rules: the shipped file', () => {
  it('lists the strong kinds in priority order and leaves OPENID out of linking', () => {
    expect(rules.strong.map((s) => s.kind)).toEqual(['RESIDENT_ID', 'PASSPORT', 'UNIONID', 'MEMBER_NO', 'PHONE', 'EMAIL']);
    expect(rules.strong.map((s) => s.priority)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(rules.strongKind('OPENID')).toBeUndefined();
    expect(rules.isExclusive('UNIONID')).toBe(true);
    expect(rules.isExclusive('PHONE')).toBe(false);
    expect(rules.defaultPhoneRegion).toBe('CN');
  });

  it.each([
    ['PHONE', '00000000000'],
    ['PHONE', '13800000000'],
    ['PHONE', '+86 138 0000 0000'],
    ['PHONE', '11111111111'],
    ['PHONE', '4008001234'],
    ['PHONE', '+86 800-810-1234'],
    ['EMAIL', 'test@test.com'],
    ['EMAIL', ' TEST@test.com '],
    ['EMAIL', 'none@none.com'],
    ['EMAIL', 'null'],
    ['EMAIL', 'N/A'],
    ['MEMBER_NO', 'null'],
    ['MEMBER_NO', 'N/A'],
    ['MEMBER_NO', '00000000'],
    ['UNIONID', 'anonymous'],
    ['UNIONID', 'NULL'],
  ] as Array<[IdentifierKind, string]>)('refuses the placeholder %s %j', (kind, raw) => {
    expect(refused(kind, raw)).toBe(true);
  });

  it.each([
    ['PHONE', '139-1234-5678'],
    ['PHONE', '8613800138000'],
    ['EMAIL', 'Wang.Fang@QQ.com'],
    ['MEMBER_NO', 'M10000021'],
    ['UNIONID', 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o'],
  ] as Array<[IdentifierKind, string]>)('keeps the real value %s %j', (kind, raw) => {
    expect(refused(kind, raw)).toBe(false);
  });

  it('compares emails with provider aliases folded, and keeps the canonical value', () => {
    expect(rules.normalize('EMAIL', 'Wang.Fang+shop@Gmail.com')).toEqual({
      kind: 'EMAIL',
      value: 'wang.fang+shop@gmail.com',
      matchKey: 'wangfang@gmail.com',
    });
    expect(rules.normalize('PHONE', '138-0013-8000')).toEqual({ kind: 'PHONE', value: '+8613800138000', matchKey: '+8613800138000' });
  });
});

describe('Identity rules: validation at load', () => {
  it('names the file and the key of a wrong value', () => {
    const file = writeRules(JSON.stringify({ ...valid, strong: [{ ...valid.strong[0], maxPeople: 0 }] }));
    expect(() => loadIdentityRules(file)).toThrow(`${file}: invalid identity rules at key "strong.0.maxPeople"`);
  });

  it('names an unknown key (a typo is not silently ignored)', () => {
    const file = writeRules(JSON.stringify({ ...valid, blockedValues: {} }));
    expect(() => loadIdentityRules(file)).toThrow(/key "blockedValues"/);
  });

  it('names a pattern that is not a regular expression', () => {
    expect(() => parseIdentityRules({ ...valid, blocked: { PHONE: ['^(+86'] } }, 'rules.json')).toThrow(
      /rules.json: invalid identity rules at key "blocked.PHONE.0": not a valid regular expression/,
    );
  });

  it('refuses an unknown identifier kind, region or a kind listed twice', () => {
    expect(() => parseIdentityRules({ ...valid, exclusive: ['SSN'] })).toThrow(/key "exclusive.0"/);
    expect(() => parseIdentityRules({ ...valid, defaultPhoneRegion: 'XX' })).toThrow(/key "defaultPhoneRegion"/);
    expect(() => parseIdentityRules({ ...valid, strong: [valid.strong[0], valid.strong[0]] })).toThrow(/key "strong": a kind is listed twice/);
  });

  it('says so when the file is not JSON or missing', () => {
    const file = writeRules('{ "strong": [');
    expect(() => loadIdentityRules(file)).toThrow(`${file}: not valid JSON`);
    expect(() => loadIdentityRules('/nonexistent/rules.json')).toThrow('/nonexistent/rules.json: cannot read identity rules');
  });
});

describe('Identity rules: traits used as evidence', () => {
  it('compares Han names character for character and Latin names as a set of words', () => {
    expect(nameKey('张伟')).toBe(nameKey(' 张 伟 '));
    expect(nameKey('张伟')).not.toBe(nameKey('张薇'));
    expect(nameKey('Wei Zhang')).toBe(nameKey('zhang  WEI'));
    expect(nameKey('张伟')?.slice(0, 2)).toBe('h:');
    expect(nameKey('Wei Zhang')?.slice(0, 2)).toBe('p:');
    expect(nameKey('Sunny Zhang')?.slice(0, 2)).toBe('l:');
  });

  it('reads a Chinese name in pinyin run together, surname first, as its surname and given name', () => {
    // A WeCom remark typed so names the same person as the helpdesk's `Shuxia Hou` and the CRM's 侯淑霞.
    expect(nameKey('houshuxia')).toBe(nameKey('Shuxia Hou'));
    expect(compareNameKeys(nameKey('houshuxia')!, nameKey('侯淑霞')!)).toBe('agree');
    expect(compareNameKeys(nameKey('ouyangfeng')!, nameKey('欧阳锋')!)).toBe('agree');
    expect(compareNameKeys(nameKey('houshuxia')!, nameKey('侯淑华')!)).toBe('conflict');
  });

  it('leaves one word as it is where it may be a given name alone or splits two ways', () => {
    // Two syllables: 丽艳 alone, or 李艳; either way nothing against 袁丽艳 or `Liyan Yuan` the rules could stand on.
    expect(nameKey('liyan')).not.toBe(nameKey('Li Yan'));
    expect(compareNameKeys(nameKey('liyan')!, nameKey('袁丽艳')!)).toBe('unknown');
    // Not pinyin, or a surname followed by three syllables.
    expect(nameKey('lucky')?.slice(0, 2)).toBe('l:');
    expect(nameKey('wangxiaolongyu')).not.toBe(nameKey('Wang Xiaolongyu'));
  });

  it('treats forms of address and stand-ins as no name at all', () => {
    for (const n of ['王先生', '李女士', '微信用户', '客户', 'Unknown', '张', '', null]) expect(nameKey(n)).toBeNull();
  });

  it('ignores birthdays that are form defaults', () => {
    expect(birthdayKey('1990/3/7', rules)).toBe(birthdayKey('1990-03-07', rules));
    expect(birthdayKey('1900-01-01', rules)).toBeNull();
    expect(birthdayKey('1990-02-30', rules)).toBeNull();
  });
});
