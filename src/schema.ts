/**
 * The executable schema: SDL files in schema/ are the contract; resolvers must match them
 * exactly (a resolver for a field the SDL lacks fails at boot, not at query time).
 */
import fs from 'node:fs';
import path from 'node:path';
import { mergeTypeDefs } from '@graphql-tools/merge';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { GraphQLSchema } from 'graphql';
import { resolvers } from '../resolvers';

export const SCHEMA_DIR = path.resolve(__dirname, '..', 'schema');

export function loadTypeDefs(dir = SCHEMA_DIR) {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.graphql')).sort();
  return mergeTypeDefs(files.map((f) => fs.readFileSync(path.join(dir, f), 'utf8')));
}

export function buildSchema(): GraphQLSchema {
  return makeExecutableSchema({
    typeDefs: loadTypeDefs(),
    resolvers,
    resolverValidationOptions: { requireResolversToMatchSchema: 'error', requireResolversForResolveType: 'ignore' },
  });
}
