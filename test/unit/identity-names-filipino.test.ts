/**
 * `Ma.` for María in Filipino names: one name however a form abbreviates it, and never the
 * Chinese surname Ma.
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
