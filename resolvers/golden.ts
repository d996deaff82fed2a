/** Golden fields of Customer, marketing consent and provenance: survivorship (src/golden) over the per-source records. */
import type { Context } from '../src/context';
import { badUserInput, quote } from '../src/errors';
import { displayValue, GOLDEN_FIELDS, isGoldenField, type GoldenField } from '../src/golden/fields';
import { goldenDecision, goldenValue } from '../src/golden/records';
import { describeRules } from '../src/golden/rules';
import type { Decision } from '../src/golden/survivorship';
import type { CustomerParent } from './customer';

const rulesOf = (ctx: Context) => ctx.insights.rules.survivorship;

const decision = (ctx: Context, customerId: string, field: GoldenField) => goldenDecision(ctx.loaders, rulesOf(ctx)[field], customerId);

// Not async: once the customer's sources have said, the value is answered without a promise.
const value = (field: GoldenField) => (c: { id?: string; customerId?: string }, _: unknown, ctx: Context) =>
  goldenValue(ctx.loaders, rulesOf(ctx)[field], (c.customerId ?? c.id) as string);

function provenance(d: Decision, ctx: Context) {
  const chosen = d.chosen;
  return {
    field: d.field,
    value: chosen ? displayValue(chosen.value) : null,
    source: chosen?.source ?? null,
    recordId: chosen?.recordId ?? null,
    sourceUpdatedAt: chosen?.updatedAt ?? null,
    rule: d.rule,
    rules: describeRules(rulesOf(ctx)[d.field]),
    candidates: d.candidates.map((c) => ({ ...c, value: displayValue(c.value) })),
    missingSources: d.missing ?? [],
  };
}

export const goldenResolvers = {
  Customer: {
    name: value('name'),
    phone: value('phone'),
    email: value('email'),
    gender: value('gender'),
    birthday: value('birthday'),
    city: value('city'),
    province: value('province'),
    memberTier: value('memberTier'),
    registeredAt: value('registeredAt'),
    registrationChannel: value('registrationChannel'),
    marketingConsent: (c: CustomerParent) => ({ customerId: c.id }),

    provenance: async (c: CustomerParent, args: { fields?: string[] | null }, ctx: Context) => {
      const unknown = (args.fields ?? []).filter((f) => !isGoldenField(f));
      if (unknown.length) {
        // Each quoted short, the first five: a client's list is not echoed whole.
        const named = unknown.slice(0, 5).map((f) => JSON.stringify(quote(f)));
        if (unknown.length > 5) named.push(`and ${unknown.length - 5} more`);
        throw badUserInput(`unknown golden field ${named.join(', ')}; golden fields are ${GOLDEN_FIELDS.join(', ')}`, { argument: 'fields' });
      }
      const fields = args.fields ? [...new Set(args.fields as GoldenField[])] : [...GOLDEN_FIELDS];
      // One entry per field; a field whose evidence failed is a null entry with that source's error.
      return Promise.all(
        fields.map((f) =>
          decision(ctx, c.id, f).then(
            (d) => provenance(d, ctx),
            (e: Error) => e,
          ),
        ),
      );
    },
  },
  MarketingConsent: {
    sms: value('marketingConsent.sms'),
    email: value('marketingConsent.email'),
    wechat: value('marketingConsent.wechat'),
  },
};
