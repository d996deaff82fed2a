/**
 * Malaysian, Singaporean and Tamil patronymic links (`bin`, `binti`/`bte`/`bt.`, `s/o`, `d/o`,
 * `a/l`, `a/p`) and Muhammad's transliterations: one person's name written with the link in full,
 * shortened or left out is one name, to the tier (`compareNames`) and to the rules (`nameKey`);
 * another father's name is not, and a word that is some other name's (`Bin` for 斌, a middle
 * initial `B`) is kept.
 */
import { compareNames, nameForm } from '../../src/idmap/probabilistic/names';
import { compareNameKeys, nameKey } from '../../src/idmap/evidence';

const level = (a: string, b: string) => compareNames(nameForm(a), nameForm(b));
const rules = (a: string, b: string) => compareNameKeys(nameKey(a)!, nameKey(b)!);

describe('patronymic links in names', () => {
  it.each([
    ['Nurul Safiya bte Aziz', 'Nurul Safiya binti Aziz'],
    ['Siti Aisyah bt. Faizal', 'SITI AISYAH BINTI FAIZAL'],
    ['Ahmad bin Ismail', 'Ahmad Ismail'],
    ['Firdaus Hafiz bn Aziz', 'Firdaus Hafiz bin Aziz'],
    ['Ramesh s/o Suppiah', 'Ramesh Suppiah'],
    ['Malathi D/O Krishnan', 'Malathi Krishnan'],
    ['Gopal a/l Anand', 'Gopal A / L Anand'],
    ['Devi a/p Muthu', 'Devi Muthu'],
  ])('reads %s and %s as one name, to the tier and to the rules', (a, b) => {
    expect(level(a, b)).toBe('exact');
    expect(rules(a, b)).toBe('agree');
  });

  it('keeps the father apart: another father is another name', () => {
    expect(level('Ahmad bin Ismail', 'Ahmad bin Yusof')).toBe('different');
    expect(rules('Ahmad bin Ismail', 'Ahmad bin Yusof')).toBe('conflict');
    expect(rules('Ramesh s/o Suppiah', 'Ramesh s/o Kumar')).toBe('conflict');
  });

  it('keeps a word that is another name: Bin of a pinyin name, a middle initial B, a link at either end', () => {
    expect(nameForm('Wang Bin Hui')!.words).toEqual(['wang', 'bin', 'hui']);
    expect(nameForm('Li Bin')!.words).toEqual(['li', 'bin']);
    expect(nameForm('Jennifer B Pascual')!.words).toEqual(['jennifer', 'b', 'pascual']);
    expect(nameForm('Bin Laden Osama')!.words).toEqual(['bin', 'laden', 'osama']);
    expect(nameForm('Tan Ah Kow s/o')!.words).toEqual(['tan', 'ah', 'kow', 's', 'o']);
    expect(level('Wang Bin Hui', '王斌辉')).toBe('alias');
  });

  it("reads Muhammad's transliterations as one given name, also Indonesia's Moh. and Muh.", () => {
    expect(level('Muhammad Iskandar bin Danial', 'Mohd Iskandar bin Danial')).toBe('alias');
    expect(level('Mohamad Razak', 'Muhammad Razak')).toBe('alias');
    expect(level('Mohd Razak', 'Mohd Osman')).toBe('different');
    expect(level('Moh. Adi Setiawan', 'Muhammad Adi Setiawan')).toBe('alias');
    expect(level('Muh. Adi Santoso', 'Mohammad Adi Santoso')).toBe('alias');
  });

  it("reads a Tamil father's name as an initial against it in full as close, not as a bare initial", () => {
    expect(level('S. Arun', 'Arun Suresh')).toBe('close');
    expect(level('S. Arun', 'Arun s/o Suresh')).toBe('close');
    expect(level('Anitha R.', 'Anitha Rajesh')).toBe('close');
    expect(level('K Balakrishnan', 'Balakrishnan Krishnan')).toBe('close');
    // The father's own name with his father's initial against his son's: the given name stands last in the full form.
    expect(level('K. Suresh', 'Arun Suresh')).toBe('different');
    // An initial for the given name under a surname stays a bare initial.
    expect(level('J Smith', 'John Smith')).toBe('similar');
    expect(level('S. Arun', 'Arun Kumar')).not.toBe('close');
  });

  it('reads a single name written twice, as forms that want two names take it, as that name; a Chinese or English name twice is two', () => {
    expect(level('SUKARNO SUKARNO', 'Sukarno')).toBe('exact');
    expect(nameForm('Sukarno Sukarno')!.words).toEqual(['sukarno']);
    expect(nameForm('Li Li')!.words).toEqual(['li', 'li']);
    expect(nameForm('Ho Ho')!.words).toEqual(['ho', 'ho']);
    expect(nameForm('Wong Wong')!.words).toEqual(['wong', 'wong']);
    expect(nameForm('Benjamin Benjamin')!.words).toEqual(['benjamin', 'benjamin']);
    // A given name and a surname, as Faker's British and American names have them: still the same name as `Ben Benjamin`.
    expect(level('Benjamin Benjamin', 'Ben Benjamin')).toBe('alias');
  });
});
