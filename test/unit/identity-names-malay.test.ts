/**
 * `Siti`, `Nur` and `Nurul` before a Malay or Indonesian given name, kept by one system and
 * dropped by another: one name.
 */
import { compareNames, nameForm } from '../../src/idmap/probabilistic/names';

const level = (a: string, b: string) => compareNames(nameForm(a), nameForm(b));

describe('Names: Siti, Nur and Nurul before a Malay given name', () => {
  it.each([
    ['Siti Amira Aziz', 'Amira Aziz'],
    ['Nurul Amira Azman', 'Amira Azman'],
    ['Nur Siti Simanjuntak', 'Siti Simanjuntak'],
    ['Noraini Aziz', 'Nurul Noraini Aziz'],
  ])('%s is %s', (a, b) => {
    expect(level(a, b)).toBe('alias');
    expect(level(b, a)).toBe('alias');
  });

  it.each([
    ['Siti Amira', 'Amira'], // one given name alone
    ['Siti Amira Aziz', 'Aziz Amira'], // the rest in another order is another reading
    ['Siti Amira Aziz', 'Amira Azman'],
    ['John Amira Aziz', 'Amira Aziz'], // not such a word
  ])('%s is not %s', (a, b) => {
    expect(level(a, b)).not.toBe('alias');
  });
});
