/**
 * A middle name in full against its initial: the Philippine middle name (the mother's maiden
 * surname, an initial on most forms), written in either order, and a Vietnamese or Western middle
 * name cut the same way, is one name to the tier; an initial that is not the other's word, or one
 * whole word in common, is not.
 */
import { compareNames, nameForm } from '../../src/idmap/probabilistic/names';
import { middleNameAsInitial } from '../../src/idmap/probabilistic/middle-names';

const level = (a: string, b: string) => compareNames(nameForm(a), nameForm(b));

describe('a middle name in full and as its initial', () => {
  it.each([
    ['Jennifer B. Pascual', 'Jennifer Bautista Pascual'],
    ['Pascual, Jennifer B.', 'Jennifer Bautista Pascual'],
    ['Manalo, Rodrigo A.', 'Manalo Rodrigo Aquino'],
    ['Rosario D. Navarro', 'Rosario de Leon Navarro'],
    ['Eduardo D. Villanueva', 'Eduardo Dela Cruz Villanueva'],
    ['Bui M. Phuc', 'Bui Minh Phuc'],
    ['John A. Smith', 'John Andrew Smith'],
  ])('reads %s and %s as one name', (a, b) => {
    expect(level(a, b)).toBe('alias');
  });

  it('keeps apart an initial of another word, one whole word in common, and words that do not stand together', () => {
    expect(level('John A. Smith', 'John Bernard Smith')).not.toBe('alias');
    expect(level('J. Smith', 'John Smith')).toBe('similar');
    expect(middleNameAsInitial(['jennifer', 'b', 'pascual'], ['jennifer', 'bautista', 'pascual', 'cruz'])).toBe(false);
    expect(middleNameAsInitial(['jennifer', 'b', 'pascual'], ['bautista', 'jennifer', 'cruz', 'pascual'])).toBe(false);
    expect(middleNameAsInitial(['jennifer', 'b', 'c', 'pascual'], ['jennifer', 'bautista', 'cruz', 'pascual'])).toBe(false);
  });
});
