/**
 * The rules' reading of a Han name cut short (马艳 for 马艳丽) when an email spells the whole name:
 * one name, where a name cut short alone conflicts (a sister's name may begin the same way).
 */
import crypto from 'node:crypto';
import path from 'node:path';
import { addToProfile, conflictsBetween, emptyProfile, nameCutShortSpelled, nameKey } from '../../src/idmap/evidence';
import { loadIdentityRules } from '../../src/idmap/rules';
import type { IdentifierKind } from '../../src/vocabulary';

const rules = loadIdentityRules(path.resolve(__dirname, '../../config/identity-rules.json'));
const phone = rules.strongKind('PHONE')!;
const record = (name: string, ...emails: string[]) =>
  addToProfile(emptyProfile(), { nameKey: nameKey(name), values: emails.map((e) => ['EMAIL', e] as readonly [IdentifierKind, string]) });

describe('OneID rules: a Han name cut short, spelt whole by an email', () => {
  it('reads the short form as the whole name when an email of either side spells the whole name, surname first or last', () => {
    expect(nameCutShortSpelled(record('马艳', 'mayanli3738@163.com'), record('马艳丽'))).toBe(true);
    expect(nameCutShortSpelled(record('马艳丽'), record('马艳', 'mayanli3738@163.com'))).toBe(true);
    expect(nameCutShortSpelled(record('王文思', 'wensi.wang@qq.com'), record('王文'))).toBe(true);
    expect(conflictsBetween(record('马艳', 'mayanli3738@163.com'), record('马艳丽'), phone, rules)).toEqual([]);
  });

  it('keeps the conflict when nothing spells the whole name: a sister may be named so', () => {
    expect(conflictsBetween(record('马艳'), record('马艳丽'), phone, rules).map((c) => c.attribute)).toEqual(['name']);
    // An email of initials, or one spelling a third name (马艳红), says nothing of whose the short form is.
    expect(nameCutShortSpelled(record('马艳', 'myl@163.com'), record('马艳丽'))).toBe(false);
    expect(nameCutShortSpelled(record('马艳', 'mayanhong@163.com'), record('马艳丽'))).toBe(false);
    // The email must be the name and nothing else besides digits and separators.
    expect(nameCutShortSpelled(record('马艳', 'mayanlishop@163.com'), record('马艳丽'))).toBe(false);
  });

  it('reads only a cut at a syllable of the whole given name, on the same surname', () => {
    // 王文 is 王文思 cut short; 王思 (the last character kept) and 李文 (another surname) are not.
    expect(nameCutShortSpelled(record('王文思', 'wangwensi@163.com'), record('王思'))).toBe(false);
    expect(nameCutShortSpelled(record('王文思', 'wangwensi@163.com'), record('李文'))).toBe(false);
    // `xian` is one syllable: 李西 is not 李仙 cut short, though `xi` begins `xian`.
    expect(nameCutShortSpelled(record('李仙', 'lixian@163.com'), record('李西'))).toBe(false);
    // The same name twice is not a cut.
    expect(nameCutShortSpelled(record('马艳丽', 'mayanli@163.com'), record('马艳丽'))).toBe(false);
  });

  it('reads no address where the other side has no Han name under the surname with another given name', () => {
    // The link phase asks this of every two records of one system on a shared value that nothing
    // else ties (a household's): reading an address hashes both halves of each split of its letters.
    const whole = record('王文思', 'wangwensi@163.com');
    const [other, same, latin, cut] = [record('李娜', 'lina88@qq.com'), record('王文思'), record('Wang Wensi', 'wangwensi@163.com'), record('王文')];
    const hashes = jest.spyOn(crypto, 'hash');
    try {
      expect(nameCutShortSpelled(whole, other)).toBe(false);
      expect(nameCutShortSpelled(whole, same)).toBe(false);
      expect(nameCutShortSpelled(latin, cut)).toBe(false);
      expect(hashes).not.toHaveBeenCalled();
      // Where there is one, the addresses are read as before.
      expect(nameCutShortSpelled(whole, cut)).toBe(true);
      expect(hashes).toHaveBeenCalled();
    } finally {
      hashes.mockRestore();
    }
  });
});
