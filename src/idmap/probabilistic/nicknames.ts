/**
 * Common English given-name nicknames and their formal names, one line per formal name, and the
 * spellings a transliterated given name takes (Muhammad: `Mohd` on Malaysian identity cards, `Moh.`
 * and `Muh.` in Indonesia).
 * A short table of the forms seen most often in customer data, not a complete one: a name
 * missing here still scores through Jaro-Winkler, only lower.
 */
import { ENGLISH_NAMES_READ_AS_PINYIN } from './english-given';

const TABLE = `
robert: bob bobby rob robbie bert
william: bill billy will willy liam
richard: rick ricky dick rich richie
james: jim jimmy jamie
john: jack johnny jon
joseph: joe joey
michael: mike mikey mick
thomas: tom tommy
charles: charlie chuck chas
christopher: chris kit
daniel: dan danny
david: dave davey
edward: ed eddie ted ned
elizabeth: liz lizzie beth betty eliza bess libby
margaret: maggie meg peggy marge margo
katherine: kate katie kathy cathy kat kitty catherine kathryn
jennifer: jen jenny
rebecca: becky becca
patricia: pat patty trish
susan: sue susie suzy
deborah: deb debbie
alexander: alex sasha sandy
alexandra: alex sandra lexi
anthony: tony
andrew: andy drew
benjamin: ben benny
nicholas: nick nicky
matthew: matt
samuel: sam sammy
steven: steve stephen
stephanie: steph
jonathan: jon jonny
timothy: tim timmy
victoria: vicky tori
samantha: sam sammy
abigail: abby gail
gregory: greg
kenneth: ken kenny
lawrence: larry
peter: pete
philip: phil
ronald: ron ronnie
donald: don donnie
gerald: jerry gerry
frederick: fred freddie
henry: hank harry
harold: harry hal
jacqueline: jackie
christina: tina chris
christine: chris tina
theodore: ted teddy theo
zachary: zach zack
joshua: josh
muhammad: mohd muhd mohamad mohammad muhamad mohamed mohammed muhammed mohamud moh muh
`;

/**
 * The short forms of Spanish given names that Filipinos (and Spanish speakers elsewhere) go by, in
 * the same shape: the hypocoristics of Spanish (`Pepe` for José, `Paco` and `Pancho` for
 * Francisco, `Concha` for Concepción, `Lola` for Dolores, `Charo` for Rosario, `Nacho` for
 * Ignacio, as the Real Academia's Diccionario panhispánico de dudas and any Spanish grammar of
 * names list them) and the Filipino ones made with `-ing` and by clipping (`Peping`, `Coring` for
 * Socorro, `Meding` for Remedios, `Cory` for Corazon, `Digong` for Rodrigo). Diacritics are folded
 * before the look-up (José is jose). Kept apart from the English table: these are not English
 * given names where that matters (`isEnglishGivenName`).
 */
const SPANISH_TABLE = `
jose: pepe peping pepito
josefina: pina pining fina josie
josefa: pepa pepita
rosario: charo chayong
dolores: lola lolita loleng
concepcion: concha conchita chita connie
consuelo: chelo connie
mercedes: merche mercy cheding
guadalupe: lupe lupita
francisco: paco pancho kiko frank
ignacio: nacho
enrique: quique
manuel: manolo maning manny
emmanuel: manny
antonio: tony tonyo
eduardo: eddie lalo edong
alberto: beto berto
roberto: beto berto
fernando: nando ferdie
ricardo: carding
rodrigo: digong rody
gregorio: goyo
benigno: ninoy
guillermo: memo
jesus: chucho chuy
corazon: cory
socorro: coring cory
remedios: remy meding
trinidad: trining
teresa: tess tessie
milagros: mila
natividad: naty
felicidad: fely
esperanza: espie
`;

const FORMAL = new Map<string, string[]>();
for (const line of [...TABLE.trim().split('\n'), ...SPANISH_TABLE.trim().split('\n')]) {
  const [formal, rest] = line.split(':');
  for (const nick of rest.trim().split(/\s+/)) FORMAL.set(nick, [...(FORMAL.get(nick) ?? []), formal]);
}

/** The formal names a lower-case given name may stand for (itself included). */
export function formalNames(given: string): string[] {
  return [given, ...(FORMAL.get(given) ?? [])];
}

/** Whether two lower-case given names are one name in two forms (`bob` / `robert`, `bob` / `rob`). */
export function sameGivenName(a: string, b: string): boolean {
  if (a === b) return true;
  const fa = formalNames(a);
  const fb = new Set(formalNames(b));
  return fa.some((x) => fb.has(x));
}

const ENGLISH_GIVEN = new Set([...TABLE.split(/[\s:]+/).filter(Boolean), ...ENGLISH_NAMES_READ_AS_PINYIN]);

/** Whether a lower-case word is an English given name: of the table (formal or short form), or a common one that reads as pinyin. */
export const isEnglishGivenName = (word: string): boolean => ENGLISH_GIVEN.has(word);
