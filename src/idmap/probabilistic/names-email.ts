/**
 * A record's own email address naming another record's holder: the name a person chose for an
 * address (`tonyleung1@`, `gary.pang@`) is the name they go by, which may be another than the one
 * a form took. Hong Kong, Taiwan and Singapore customers often go by an English given name beside
 * their Chinese one (`Tony Leung` for 梁秀明, `Gary Pang` for `Pang Lin Sau`): a Hong Kong identity
 * card (Registration of Persons Ordinance, Cap. 177) gives the holder's name in English, often an
 * English given name beside the romanized Chinese one (`CHAN, Tai Man Peter`), and such names
 * are what email addresses and forms in English carry. Names alone cannot tell that pair from two
 * people of one surname; the address the record itself gives can.
 */
import type { HeldValue } from './features';
import { spellsSurnameOf, type NameForm } from './names';

/**
 * Whether an email of `own`'s record spells `other`'s name whole, its words in any order
 * (separators, digits and a plus tag left out: `tony.leung+shop1`, `leungtony`), and one of those
 * words may be `own`'s surname: the other record names the person the address is for, and that
 * person carries `own`'s surname; not an address the other record carries too. Two or three words of two letters or more, at least one beside
 * the surname: an initial says too little (`tleung`, `t.leung`).
 */
export function emailNamesOther(own: NameForm | null, values: readonly HeldValue[], other: NameForm | null, otherValues: readonly HeldValue[] = []): boolean {
  if (!own || !other || other.script !== 'l') return false;
  const words = other.words;
  if (words.length < 2 || words.length > 3 || words.some((w) => w.length < 2)) return false;
  const surnames = words.filter((w) => spellsSurnameOf(own, w));
  if (!surnames.length || surnames.length === words.length) return false;
  const orders = permutations(words).map((ws) => ws.join(''));
  for (const v of values) {
    // An address both records carry is evidence of its own, and between names that differ the
    // household's to weigh (`householdPenalty`): a household's address names one of its people on
    // the others' records, sometimes beside that person's birthday.
    if (v.kind !== 'EMAIL' || otherValues.some((o) => o.kind === 'EMAIL' && o.key === v.key)) continue;
    const letters = v.key
      .split('@')[0]
      .split('+')[0]
      .replace(/[^a-z]/g, '');
    if (orders.includes(letters)) return true;
  }
  return false;
}

function permutations(ws: readonly string[]): string[][] {
  if (ws.length <= 1) return [[...ws]];
  return ws.flatMap((w, i) => permutations([...ws.slice(0, i), ...ws.slice(i + 1)]).map((rest) => [w, ...rest]));
}
