/**
 * The name a WeCom contact's identity record carries: what staff noted for the contact in their
 * remarks (externalcontact/get `follow_user.remark`), the earliest follow's that names the person.
 */
import { remarkedName, type WecomContact } from '../../src/sources/wecom/connector';
import { profileView } from '../../src/sources/wecom';
import type { Instant, SourceName } from '../../src/vocabulary';

const follow = (userid: string, createtime: number, remark: string) => ({ userid, createtime, remark, remark_mobiles: [] });

describe('WeCom remarked name', () => {
  it("is the earliest follow's remark, whatever order WeCom lists the follows in", () => {
    expect(remarkedName([follow('sales_002', 1_710_000_000, 'wangfang'), follow('zhangwei', 1_700_000_000, '王芳')])).toBe('王芳');
    // Two follows added the same second: the staff ids order them, as the contact's follows are ordered.
    expect(remarkedName([follow('zhangwei', 1_700_000_000, '王芳'), follow('sales_002', 1_700_000_000, 'wangfang')])).toBe('wangfang');
  });

  it('keeps the name of a remark that carries a note after a dash, a colon or a bracket', () => {
    expect(remarkedName([follow('s', 1, '贾磊伟-对价格敏感')])).toBe('贾磊伟');
    expect(remarkedName([follow('s', 1, '张瑶（老客户）')])).toBe('张瑶');
    expect(remarkedName([follow('s', 1, '欧阳娜娜：送礼需求')])).toBe('欧阳娜娜');
    // A Latin name's hyphen is part of the name.
    expect(remarkedName([follow('s', 1, 'Hsuan-Yi Lin')])).toBe('Hsuan-Yi Lin');
  });

  it('passes over a surname with a form of address, which names no one, for a later remark', () => {
    expect(remarkedName([follow('a', 1, '金女士'), follow('b', 2, 'jinjieyan')])).toBe('jinjieyan');
    expect(remarkedName([follow('a', 1, '陈先生'), follow('b', 2, '欧阳小姐')])).toBeNull();
    // Titles and familiar forms name no one either: every Zhang a sales team deals with is 张经理 to it.
    for (const remark of ['张经理', '李工', '王姐', '欧阳老板', '老王', '小李']) expect(remarkedName([follow('a', 1, remark)])).toBeNull();
    // A two-character name is a name.
    expect(remarkedName([follow('a', 1, '王芳')])).toBe('王芳');
  });

  it('is null when no follow has a remark', () => {
    expect(remarkedName([follow('a', 1, ''), { userid: 'b', createtime: 2 }])).toBeNull();
    expect(remarkedName([])).toBeNull();
  });
});

/**
 * The name a contact offers the golden `name`: the name its remarks hold, never a remark whole.
 * A remark's note (`侯艳芳-老客户`) is a staff member's word about the customer: measured with a real
 * c360 whose survivorship lists WeCom for the name, the golden name of the demo's first person was
 * `侯艳芳-老客户` until session 41 (2026-12-06), to every role reading `Customer.name`, including
 * one that may not read `WecomFollow.remark`.
 */
describe('WeCom profile view: the name', () => {
  const contact = (remarks: Array<string | null>, nickname: string | null = 'Jason'): WecomContact => ({
    source: 'wecom' satisfies SourceName,
    externalUserId: 'wm-1',
    name: nickname,
    unionid: null,
    gender: 'UNKNOWN',
    type: 'WECHAT',
    corpName: null,
    follows: remarks.map((remark, i) => ({
      staffId: `s${i}`,
      remark,
      description: null,
      remarkCorpName: null,
      remarkMobiles: [],
      tags: [],
      addedAt: `2024-01-0${i + 1}T00:00:00.000Z` satisfies Instant,
      addWay: null,
      state: null,
    })),
  });
  const nameOf = (c: WecomContact) => profileView(c).values.name;

  it('is the name a remark holds, without the note after it', () => {
    expect(nameOf(contact(['侯艳芳-老客户']))).toBe('侯艳芳');
    expect(nameOf(contact(['张瑶（老客户）', '王芳']))).toBe('张瑶');
  });

  it("passes over remarks that name no one for a later follow's, and falls back to the nickname", () => {
    expect(nameOf(contact([null, '金女士', '王芳-需要回访']))).toBe('王芳');
    expect(nameOf(contact(['张经理']))).toBe('Jason');
    expect(nameOf(contact([]))).toBe('Jason');
  });
});
