/** DateTime (ISO-8601 UTC out, any zone in) and Date (YYYY-MM-DD). Bad input is BAD_USER_INPUT. */
import { GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { instantFromIso, normalizeDate } from '../src/canonical';
import { badUserInput } from '../src/errors';

function scalar(name: string, description: string, parse: (v: unknown) => string | null, expected: string) {
  // A literal's error carries its node: graphql-js gives a scalar no argument name, but the location points at it.
  const coerceIn = (v: unknown, node?: ValueNode) => {
    const out = parse(v);
    if (out === null) throw badUserInput(`${name} must be ${expected}`, undefined, node);
    return out;
  };
  return new GraphQLScalarType({
    name,
    description,
    serialize: (v) => {
      const out = parse(v);
      if (out === null) throw new TypeError(`${name} cannot represent this value`);
      return out;
    },
    parseValue: coerceIn,
    parseLiteral: (ast: ValueNode) => {
      if (ast.kind !== Kind.STRING) throw badUserInput(`${name} must be a string: ${expected}`, undefined, ast);
      return coerceIn(ast.value, ast);
    },
  });
}

export const DateTime = scalar(
  'DateTime',
  'An instant, ISO-8601 in UTC.',
  instantFromIso,
  'an ISO-8601 instant with a zone, on a calendar date, in years 0001–9999 once in UTC, e.g. 2024-03-01T08:15:00Z',
);
export const DateScalar = scalar('Date', 'A calendar date, YYYY-MM-DD.', normalizeDate, 'a date YYYY-MM-DD');
