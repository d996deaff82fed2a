/**
 * zod's union says only "Invalid input" when every option fails, which names nothing a person
 * editing a config file can act on. These read the issue it carries (`errors`, one list per option)
 * and say what the option the value was meant for found wrong.
 */

/** The union issue as an error callback receives it: the value, and each option's issues. */
export interface UnionIssue {
  input?: unknown;
  errors?: ReadonlyArray<ReadonlyArray<{ path: readonly PropertyKey[]; message: string }>>;
}

/** Option `index`'s issues in one line (`styles.SCRM: unknown mask style …; otherwise: …`), or undefined when it has none. */
export function optionProblems(issue: UnionIssue, index: number): string | undefined {
  const problems = index < 0 ? [] : (issue.errors?.[index] ?? []);
  return problems.map((p) => (p.path.length ? `${p.path.map(String).join('.')}: ${p.message}` : p.message)).join('; ') || undefined;
}

/**
 * For a union of a string form (option 0) and an object form (option 1): a string is told what the
 * string form found wrong, an object what the object form did, anything else `expected`.
 */
export function stringOrObjectError(expected: string) {
  return (issue: UnionIssue): string | undefined => {
    const input = issue.input;
    if (typeof input === 'string') return optionProblems(issue, 0);
    if (input && typeof input === 'object' && !Array.isArray(input)) return optionProblems(issue, 1);
    return expected;
  };
}
