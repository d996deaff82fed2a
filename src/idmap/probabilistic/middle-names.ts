/**
 * A middle name written in full by one system and cut to its initial by another: `Jennifer B.
 * Pascual` and `Jennifer Bautista Pascual`, `Pascual, Jennifer B.` (surname first, as Philippine
 * forms write it, the middle initial last), `Rosario D. Navarro` and `Rosario de Leon Navarro` (a
 * middle surname of two words), `Bui M. Phuc` and `Bui Minh Phuc`. In the Philippines the middle
 * name is the mother's maiden surname and is written as an initial on most forms; elsewhere a
 * middle name is cut so just as often (public naming conventions, not any evaluation world).
 */

/**
 * Whether one name is the other with one of its words, or two that stand together, written as
 * their initial: the one name's other words, two at least, are all the other's (any order), and
 * the initial is the first letter of what the other has besides. `J. Smith` and `John Smith` are
 * not (one whole word in common says nothing of which name the initial stands for), nor `John A.
 * Smith` and `John Bernard Smith`.
 */
export function middleNameAsInitial(a: readonly string[], b: readonly string[]): boolean {
  return initialFor(a, b) || initialFor(b, a);
}

function initialFor(short: readonly string[], full: readonly string[]): boolean {
  const initials = short.filter((w) => w.length === 1);
  if (initials.length !== 1 || short.length - 1 < 2 || full.some((w) => w.length === 1)) return false;
  const rest = [...full];
  for (const w of short) {
    if (w.length === 1) continue;
    const i = rest.indexOf(w);
    if (i < 0) return false;
    rest.splice(i, 1);
  }
  if (rest.length === 0 || rest.length > 2) return false;
  if (rest.length === 2 && full[full.indexOf(rest[0]) + 1] !== rest[1]) return false;
  return rest[0][0] === initials[0];
}
