/**
 * English given names that read as pinyin (`Linda` as lin da, `Lisa` as li sa, `Angela` as
 * an ge la). A Chinese customer often gives one abroad or at work (`Linda Wang` for 王琳): read as
 * pinyin it would be another given name than the characters', and the two records of one person
 * would conflict.
 *
 * From the US Social Security Administration's baby names (names.zip, as merged in
 * hackerb9/ssa-baby-names `maxoccurbysex.txt`): every name given to at least 2,000 babies of one
 * sex in some year since 1880 (about one in a thousand births), lower-cased, kept where it reads
 * as two or more pinyin syllables. One-syllable readings (`kai`, `juan`) are left to pinyin:
 * 凯 and 娟 are common given names, and a one-syllable English name is as often a short form
 * (those of the nickname table are English already).
 */
export const ENGLISH_NAMES_READ_AS_PINYIN: readonly string[] = `
adeline aidan aiden alan alana alexia alice alisha amanda amaya amelia ana angela angelica angelina
anita anna anne annie ashanti bianca caden camila candace candice chance chase dale damian dana
daniela denise diana diane dianne eden elaine elena eli eliana elise emilia erica erika fannie gage
gene heidi jude julia julian juliana julie june kaden kaiden karen kari karina katina laila lance
latasha leilani lena liliana linda lisa logan lori luca luka luke luna madeline malachi marisa
maxine maya megan melanie melinda michele mila milo minnie miranda monica monique naomi natalia
natalie natasha owen paige pamela remi rita sadie selena shane shari sheila shelia sheri suzanne
tami tamika tanya tasha teresa teri wanda ximena yolanda zane
`
  .trim()
  .split(/\s+/);
