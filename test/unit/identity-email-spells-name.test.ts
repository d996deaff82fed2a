/**
 * The rules' reading of a record without a name whose own email spells a named record's name
 * whole: that holder's record (a shop account on the holder's phone whose address is the holder's
 * name), where a household's second person uses an address of their own.
 */
import { addToProfile, emailSpellsNameOf, emptyProfile, nameKey } from '../../src/idmap/evidence';
import type { IdentifierKind } from '../../src/vocabulary';

const profile = (names: string[], ...emails: string[]) =>
  names.reduce(
    (p, n) => addToProfile(p, { nameKey: nameKey(n) }),
    addToProfile(emptyProfile(), { values: emails.map((e) => ['EMAIL', e] as readonly [IdentifierKind, string]) }),
  );
const account = (...emails: string[]) => profile([], ...emails);

describe("OneID rules: an email spelling the named holder's name", () => {
  it("reads an account without a name as the holder's when its own address spells the holder's whole name, in either order", () => {
    expect(emailSpellsNameOf(account('chunlei.wang49473@126.com'), profile(['王春蕾']))).toBe(true);
    expect(emailSpellsNameOf(account('yin_ting91269@163.com'), profile(['尹婷']))).toBe(true);
    expect(emailSpellsNameOf(account('wang_fengjian82723@sina.com'), profile(['王峰健']))).toBe(true);
    // A Latin name, and one name in two scripts on the named side.
    expect(emailSpellsNameOf(account('renjingyan@qq.com'), profile(['Ren Jingyan']))).toBe(true);
    expect(emailSpellsNameOf(account('weiyu52736@126.com'), profile(['韦雨', 'Yu Wei']))).toBe(true);
  });

  it('reads nothing from initials, another name, a longer local part or an address made of the number', () => {
    expect(emailSpellsNameOf(account('wangtq35477@163.com'), profile(['王婷琴']))).toBe(false);
    expect(emailSpellsNameOf(account('ljh67044@qq.com'), profile(['刘军海']))).toBe(false);
    expect(emailSpellsNameOf(account('zhangweibo62086@163.com'), profile(['吴燕艳']))).toBe(false);
    expect(emailSpellsNameOf(account('wangchunleishop@126.com'), profile(['王春蕾']))).toBe(false);
    expect(emailSpellsNameOf(account('13177744663@139.com'), profile(['王春蕾']))).toBe(false);
    // The surname alone, or the given name alone.
    expect(emailSpellsNameOf(account('wang1988@126.com'), profile(['王春蕾']))).toBe(false);
    expect(emailSpellsNameOf(account('chunlei@126.com'), profile(['王春蕾']))).toBe(false);
  });

  it("reads nothing when the record has a name of its own, or the named side holds two people's names", () => {
    // Whether a named record is another's is the names' question (`compareNameKeys`), not the address's.
    expect(emailSpellsNameOf(profile(['李强'], 'chunlei.wang@126.com'), profile(['王春蕾']))).toBe(false);
    // Whose name would the address be? 王春蕾's, but the named side also holds 李强's.
    expect(emailSpellsNameOf(account('chunlei.wang@126.com'), profile(['王春蕾', '李强']))).toBe(false);
    expect(emailSpellsNameOf(account('chunlei.wang@126.com'), profile([]))).toBe(false);
  });

  it("reads nothing from an address the named side carries too: that one is the email rule's, a household's where it refused it", () => {
    expect(emailSpellsNameOf(account('chunlei.wang@126.com'), profile(['王春蕾'], 'chunlei.wang@126.com'))).toBe(false);
    // Another address of the account still speaks.
    expect(emailSpellsNameOf(account('chunlei.wang@126.com', 'cwang@corp.cn'), profile(['王春蕾'], 'cwang@corp.cn'))).toBe(true);
  });
});
