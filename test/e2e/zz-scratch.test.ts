import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestWorld, type TestWorld } from '../helpers/world';
function policyWithGoldenFields(): string {
  const policy = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../config/access.json'), 'utf8'));
  const personal = ['Customer.name', 'Customer.phone', 'Customer.email', 'Customer.birthday', 'Customer.city', 'Customer.province'];
  policy.personal.push(...personal);
  policy.notPersonal = [...(policy.notPersonal ?? []), 'MarketingConsent.email', 'CustomerTag.name'];
  policy.roles.admin.grant.Customer = personal.map((f) => f.split('.')[1]);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'c360-policy-')), 'access.json');
  fs.writeFileSync(file, JSON.stringify(policy));
  return file;
}
let world: TestWorld;
beforeAll(async () => { const f = policyWithGoldenFields(); world = await startTestWorld({ people: 300, seed: 7, configPatch: (raw) => (raw.access.policyFile = f) }); });
afterAll(async () => world?.close());
it('dumps', async () => {
  const ids = (await world.gw.oneidDb('idmap_customers').where('status','active').select('id').limit(200)).map((r: any) => r.id);
  world.reset();
  const { body } = await world.query(`query($ids:[ID!]!){ customers(ids:$ids){ id name phone email gender birthday city province memberTier registeredAt registrationChannel marketingConsent{sms email wechat}
    provenance(fields:["city","name","phone"]){ field value source rule rules candidates{ value source recordId updatedAt chosen discarded } }
    orderSummary{ orderCount totalSpent{amount} lifetimeValue{amount} averageOrderValue{amount} ordersLast30Days ordersLast90Days ordersLast365Days favouriteCategories{category orders quantity} refundRate }
    rfm{ recencyDays frequency monetary{amount} r f m score segment boundariesComputedAt } tags{ name rule reason } lifecycle{ stage reason daysSinceLastOrder }
    timeline(first:8){ edges{ cursor node{ id kind at source recordId refId title amount{amount} channel status fromTier toTier score } } pageInfo{ hasNextPage endCursor } gaps{ source code message } } } }`, { ids });
  console.log(JSON.stringify(body.errors?.slice(0, 3)));
  const cs = body.data.customers;
  console.log(JSON.stringify(cs.filter((c: any) => c.rfm && c.tags.length > 1).slice(0, 2), null, 1));
  const count = (f: (c: any) => any) => { const m: Record<string, number> = {}; for (const c of cs) { for (const k of [].concat(f(c) ?? 'null')) m[k] = (m[k] ?? 0) + 1; } return m; };
  console.log(count((c) => c.lifecycle?.stage), count((c) => c.rfm?.segment), count((c) => c.tags?.map((t: any) => t.rule)));
  console.log(count((c) => c.provenance?.map((p: any) => `${p.field}:${p.rule}`)));
  const ops: Record<string, number> = {}; for (const c of world.calls.calls) ops[`${c.source}.${c.operation}`] = (ops[`${c.source}.${c.operation}`] ?? 0) + 1;
  console.log(ops);
});
