/**
 * `Ma.` for María in Filipino names: one name however a form abbreviates it, and never the
 * Chinese surname Ma; the short forms of Spanish given names Filipinos go by (`nicknames.ts`).
 */
import { compareNames, nameForm } from '../../src/idmap/probabilistic/names';

const level = (a: string, b: string) => compareNames(nameForm(a), nameForm(b));

describe('Names: Ma. for María', () => {
  it.each([
    ['Ma. Luisa Dela Cruz', 'Maria Luisa Dela Cruz', 'exact'],
    ['MA. THERESA S. AQUINO', 'Maria Theresa S Aquino', 'exact'],
    ['NAVARRO, Ma. Theresa G.', 'Maria Theresa Garcia Navarro', 'alias'], // surname first, the middle name as its initial
    ['Ma. Theresa T. Pascual', 'Pascual Maria Theresa Torres', 'alias'],
  ])('%s is %s: %s', (a, b, expected) => {
    expect(level(a, b)).toBe(expected);
  });

  it.each([
    ['Ma, Wai-chi', 'Maria Wai Chi'], // 马, surname first with a comma
    ['MA Wei', 'Maria Wei'],
    ['Chen Ma.', 'Chen Maria'], // nothing after it
  ])('%s is not %s', (a, b) => {
    expect(['exact', 'alias']).not.toContain(level(a, b));
  });
});

describe('Names: Spanish and Filipino short forms of a given name', () => {
  it.each([
    ['Charo Santos', 'Rosario Santos'],
    ['Pepe Reyes', 'José Reyes'],
    ['Peping Reyes', 'Jose Reyes'],
    ['Cory Aquino', 'Corazon Aquino'],
    ['Paco Dela Cruz', 'Francisco Dela Cruz'],
    ['Lola Bautista', 'Dolores Bautista'],
    ['Meding Garcia', 'Remedios Garcia'],
    // The middle name (the mother's surname) left out as well.
    ['Charo Rivera', 'Rosario Manalo Rivera'],
    ['Pepe Bautista', 'Jose Mendoza Bautista'],
  ])('%s and %s are one name', (a, b) => {
    expect(level(a, b)).toBe('alias');
  });

  it.each([
    ['Pepe Reyes', 'Paco Reyes'], // José and Francisco: two brothers
    ['Charo Santos', 'Dolores Santos'],
    ['Pepe Reyes', 'Jose Cruz'],
    ['Pepe Bautista', 'Francisco Mendoza Bautista'],
  ])('%s and %s are not one name', (a, b) => {
    expect(['exact', 'alias']).not.toContain(level(a, b));
  });
});
