/**
 * Customers made ready a level at a time: an internal contract between the resolvers that return
 * customers (resolvers/customer.ts) and the fields below them, not part of the API.
 *
 * A resolver returning customers looks ahead at what the query selects of them and, before it
 * returns, makes their golden fields' evidence and their order summaries ready for the whole
 * level: the same OneID round and the same one call per source those fields would have made
 * (issued in one tick for every customer of the level, as the fields would have), only earlier.
 * The fields then answer synchronously, so graphql-js completes each customer without a promise
 * per field and without a `promiseForObject` per customer. Only what the selection asks for is
 * read: a list that selects no golden field reads no source for it.
 *
 * Readiness changes no answer: a failed OneID round or source is kept and the field answers it
 * as before (its coded error, partial data, the other sources' value); fields asked for outside a
 * ready level (another entry point, provenance, insights) read lazily as they always did, and find
 * what a ready level read in the request's caches.
 */
import { getNamedType, isObjectType, type FieldNode, type GraphQLObjectType, type GraphQLResolveInfo } from 'graphql';
import { collectSubfields } from 'graphql/execution/collectFields';
import type { Loaders } from '../src/loaders';
import { isGoldenField } from '../src/golden/fields';
import { evidenceReady } from '../src/golden/records';
import type { SurvivorshipRules } from '../src/golden/rules';
import type { SourceName } from '../src/vocabulary';
import { summariesReady } from './commerce';

/** The Customer field whose answer a level makes ready besides the golden fields. */
const ORDER_SUMMARY = 'orderSummary';

/** What a selection of customers needs made ready: the sources of its golden fields, and whether it asks for the order summary. */
export interface Readiness {
  sources: SourceName[];
  summaries: boolean;
}

/** The fields selected of the customers `info`'s field returns (fragments and @skip/@include applied), by field name. */
function selected(info: GraphQLResolveInfo, type: GraphQLObjectType, nodes: readonly FieldNode[]) {
  return collectSubfields(info.schema, info.fragments, info.variableValues, type, nodes);
}

/**
 * What the customers `info`'s field returns need made ready, from the query's selection of them:
 * a golden field (on Customer, or on an object below it such as `marketingConsent { sms }`) adds
 * its rules' sources. Null when nothing selected needs it.
 */
export function readinessOf(info: GraphQLResolveInfo, survivorship: SurvivorshipRules): Readiness | null {
  const type = getNamedType(info.returnType);
  if (!isObjectType(type)) return null;
  const sources = new Set<SourceName>();
  let summaries = false;
  const addGolden = (field: string) => {
    if (isGoldenField(field)) for (const s of survivorship[field].sources) sources.add(s);
  };
  for (const nodes of selected(info, type, info.fieldNodes).values()) {
    const name = nodes[0].name.value;
    if (name === ORDER_SUMMARY) summaries = true;
    else if (isGoldenField(name)) addGolden(name);
    else {
      const sub = getNamedType(type.getFields()[name]?.type);
      if (isObjectType(sub)) for (const subNodes of selected(info, sub, nodes).values()) addGolden(`${name}.${subNodes[0].name.value}`);
    }
  }
  return sources.size || summaries ? { sources: [...sources], summaries } : null;
}

/** Makes `customerIds` ready for what `readiness` names (see above); resolves when every read is in, never rejects. */
export async function makeReady(loaders: Loaders, customerIds: readonly string[], readiness: Readiness): Promise<void> {
  if (!customerIds.length) return;
  const golden = readiness.sources.length ? evidenceReady(loaders, customerIds, readiness.sources) : null;
  const summaries = readiness.summaries ? summariesReady(loaders, customerIds) : null;
  // Whatever went wrong here, the fields still answer: each reads lazily what is not ready.
  await Promise.all([golden, summaries]).catch(() => undefined);
}
