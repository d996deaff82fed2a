/**
 * A record's own email naming the other record's holder (`names-email.ts`): a Chinese name written
 * from `tonyleung1@` and `Tony Leung` born the same day are one person's two names, as Hong Kong
 * customers give them; a household's address on another of its people's records is not.
 */
import { COMPARISONS, compareRecords } from '../../src/idmap/probabilistic/compare';
import { featuresOf, type HeldValue, type MatchFeatures } from '../../src/idmap/probabilistic/features';
import { compareNames, nameForm, spellsSurnameOf } from '../../src/idmap/probabilistic/names';
import { emailNamesOther } from '../../src/idmap/probabilistic/names-email';

const email = (key: string): HeldValue => ({ kind: 'EMAIL', key, from: null, to: null });
/** The name comparison of two records, as the tier weighs it. */
const compareRecordNames = (a: MatchFeatures, b: MatchFeatures) => compareRecords(a, b)[COMPARISONS.findIndex((c) => c.name === 'name')];
const rec = (name: string, birthday: string, emails: string[] = []) => featuresOf('s', name, { name, birthday }, emails.map(email));

describe('Names: an email naming the other record', () => {
  it.each([
    ['梁秀明', 'tonyleung1@gmail.com', 'Tony LEUNG', 'similar'], // 梁 leung in Cantonese
    ['PANG Lin Sau', 'gary.pang@outlook.com', 'Gary PANG', 'different'],
    ['Hoi-lai Lau', 'tony.lau@netvigator.com', 'Tony LAU', 'different'],
    ['陈德华', 'joyce.chen@hotmail.com', 'Joyce Chen', 'different'],
    ['邓君琳', 'gloriatang18@gmail.com', 'Gloria TANG', 'different'], // 鄧 tang in Cantonese
    ['李蓮天', 'kenneth.lee+shop@netvigator.com', 'Lee Kenneth', 'similar'], // plus tag, surname first
  ])('reads %s writing from %s as close to %s born the same day (the names alone: %s)', (own, address, other, alone) => {
    const a = rec(own, '1957-01-22', [address]);
    const b = rec(other, '1957-01-22');
    expect(compareNames(a.name, b.name)).toBe(alone);
    expect(compareRecordNames(a, b)).toBe('close');
    expect(compareRecordNames(b, a)).toBe('close');
  });

  it('takes a birthday one digit off or with day and month swapped as agreeing', () => {
    expect(compareRecordNames(rec('梁秀明', '1957-01-22', ['tonyleung1@gmail.com']), rec('Tony Leung', '1957-01-23'))).toBe('close');
    expect(compareRecordNames(rec('梁秀明', '1957-01-12', ['tonyleung1@gmail.com']), rec('Tony Leung', '1957-12-01'))).toBe('close');
  });

  it('says nothing without agreeing birthdays: a son writing from his father’s address', () => {
    expect(compareRecordNames(rec('Leung Ka Ming', '1985-03-02', ['tony.leung@gmail.com']), rec('Tony Leung', '1957-01-22'))).toBe('different');
    expect(compareRecordNames(rec('Leung Ka Ming', '1985-03-02', ['tony.leung@gmail.com']), rec('Tony Leung', ''))).toBe('different');
  });

  it('says nothing when the address names someone of another surname: a wife writing from her husband’s', () => {
    expect(compareRecordNames(rec('Chan Mei Ling', '1957-01-22', ['tony.leung@gmail.com']), rec('Tony Leung', '1957-01-22'))).toBe('different');
  });

  it('says nothing of an address both records carry: a household’s, naming one of its people beside that person’s birthday', () => {
    const holder = rec('Teguh Yoga', '1952-07-08', ['teguhyoga82@gmail.com']);
    const other = rec('Rizky Yoga', '1952-07-08', ['teguhyoga82@gmail.com']);
    expect(compareRecordNames(other, holder)).toBe('different');
    expect(compareRecordNames(other, { ...holder, values: [] })).toBe('close');
  });

  it('needs the whole name: an initial and a surname (`tleung`) or the surname alone name no one', () => {
    expect(emailNamesOther(nameForm('梁秀明'), [email('tleung@gmail.com')], nameForm('T Leung'))).toBe(false);
    expect(emailNamesOther(nameForm('梁秀明'), [email('leung@gmail.com')], nameForm('Leung'))).toBe(false);
    expect(emailNamesOther(nameForm('梁秀明'), [email('tonyleung@gmail.com')], nameForm('Tony Leung Chiu Wai Ka'))).toBe(false);
  });

  it('leaves a name the names already agree on as they say', () => {
    expect(compareRecordNames(rec('Tony Leung', '1957-01-22', ['tonyleung@gmail.com']), rec('Leung Tony', '1957-01-22'))).toBe('exact');
  });
});

describe('Names: a word that may be the surname', () => {
  it.each([
    ['梁秀明', 'leung', true],
    ['梁秀明', 'liang', true],
    ['張華安', 'cheung', true],
    ['張華安', 'chang', true], // Wade-Giles
    ['張華安', 'wong', false],
    ['Hoi-lai Lau', 'lau', true],
    ['Hoi-lai Lau', 'chan', false],
  ])('%s may carry the surname %s: %s', (name, word, yes) => {
    expect(spellsSurnameOf(nameForm(name)!, word)).toBe(yes);
  });
});
