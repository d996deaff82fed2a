/**
 * Query limits for `_entities`. The role's limits (src/access/limits.ts) count a list field's
 * items by `first` or an `ids` argument, else `defaultListSize`; a router's `_entities` carries
 * its items as `representations`, so this plugin measures such an operation again with each
 * `_entities` selection counted once per representation and the representations as ids, and
 * refuses it with the same errors (QUERY_TOO_COMPLEX, or BAD_USER_INPUT beyond the API's own
 * maximum) before execution: no OneID read or source call is made for a refused request.
 */
import { Kind, type DocumentNode, type FieldNode, type FragmentDefinitionNode, type SelectionSetNode, type ValueNode } from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import type { Context } from '../context';
import { checkLimits, measureOperation, variablesWithDefaults, type Limits } from '../access';

const ENTITIES_FIELD = '_entities';

/** How many representations an `_entities` field carries (a literal list or a variable). */
function representationCount(field: FieldNode, variables: Record<string, unknown>): number {
  const arg = field.arguments?.find((a) => a.name.value === 'representations')?.value as ValueNode | undefined;
  if (!arg) return 0;
  const value = arg.kind === Kind.VARIABLE ? variables[arg.name.value] : arg.kind === Kind.LIST ? arg.values : undefined;
  return Array.isArray(value) ? value.length : value == null ? 0 : 1;
}

/** The root's `_entities` fields, also those inside fragments (validation has refused cycles by now), once per time they are spread. */
function entitiesFields(document: DocumentNode, set: SelectionSetNode): FieldNode[] {
  const fragments = new Map(document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]));
  const walk = (s: SelectionSetNode): FieldNode[] =>
    s.selections.flatMap((sel) => {
      if (sel.kind === Kind.FIELD) return sel.name.value === ENTITIES_FIELD && sel.selectionSet ? [sel] : [];
      if (sel.kind === Kind.INLINE_FRAGMENT) return walk(sel.selectionSet);
      const frag = fragments.get(sel.name.value);
      return frag ? walk(frag.selectionSet) : [];
    });
  return walk(set);
}

/** The plugin for one role's subgraph: its limits, and the API's maximum of ids per call. */
export function entitiesLimitsPlugin(limits: Limits, hardMaxIds?: number): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(rc) {
          const operation = rc.operation;
          if (!operation || operation.operation !== 'query') return;
          const fields = entitiesFields(rc.document, operation.selectionSet);
          if (!fields.length) return;
          // A representations variable left out of the request runs with its default: count that.
          const variables = variablesWithDefaults(operation, (rc.request.variables ?? {}) as Record<string, unknown>);
          const measure = measureOperation(rc.schema, rc.document, operation, variables, limits.defaultListSize);
          let { cost, maxIds } = measure;
          for (const field of fields) {
            const n = representationCount(field, variables);
            // One entity's selection, measured as if it were the operation's own (its inline fragments name their type).
            const each = measureOperation(rc.schema, rc.document, { ...operation, selectionSet: field.selectionSet! }, variables, limits.defaultListSize).cost;
            cost += (n - limits.defaultListSize) * each;
            maxIds = Math.max(maxIds, n);
          }
          const error = checkLimits({ ...measure, cost, maxIds }, limits, hardMaxIds);
          if (error) throw error;
        },
      };
    },
  };
}
