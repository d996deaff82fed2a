import { countNameParts, namePartsOf, namePartsShare } from '../../src/idmap/probabilistic/name-parts';

describe('name parts (an exact name as common as its surname and given name make it)', () => {
  it("counts a Latin name's words, a Han name's surname and given name (the given name apart from a surname written alike)", () => {
    expect(namePartsOf('winnie lam')).toEqual(['winnie', 'lam']);
    expect(namePartsOf('chan tai man')).toEqual(['chan', 'tai', 'man']);
    expect(namePartsOf('李小明')).toEqual(['李', '·小明']);
    expect(namePartsOf('欧阳娜娜')).toEqual(['欧阳', '·娜娜']);
    expect(namePartsOf('王林')).toEqual(['王', '·林']);
    // One word, another script: no parts to multiply.
    expect(namePartsOf('sukarno')).toEqual([]);
    expect(namePartsOf('김민준')).toEqual([]);
  });

  it("gives a name's share as its parts' shares multiplied, none for a name of one part or a part never counted", () => {
    const parts = new Map<string, number>();
    countNameParts(parts, 'winnie lam', 2);
    countNameParts(parts, 'grace lam', 3);
    countNameParts(parts, '林小明', 1);
    countNameParts(parts, '林大文', 1);
    expect(parts.get('lam')).toBe(5);
    expect(parts.get('林')).toBe(2);
    const counts = { records: 10, parts };
    expect(namePartsShare('winnie lam', counts)).toBeCloseTo(0.2 * 0.5, 10);
    expect(namePartsShare('林小明', counts)).toBeCloseTo(0.2 * 0.1, 10);
    expect(namePartsShare('sukarno', counts)).toBeUndefined();
    expect(namePartsShare('tony su', counts)).toBeUndefined();
    expect(namePartsShare('winnie lam', null)).toBeUndefined();
  });
});
