/**
 * The two one-customer full-360 documents the soak benches send (bench:faults, bench:heap):
 * every source's records, and the golden fields with everything derived from them.
 */
export const FULL_360_SOURCES = `query Full360Sources($ids: [ID!]!) {
  customers(ids: $ids) {
    id
    sourceRecords { source recordId }
    crmContacts { id name phone email gender createdAt }
    shopAccounts { id phone channel registeredAt }
    orders(first: 20) { id status total { amount currency } placedAt }
    orderSummary { orderCount totalSpent { amount currency } }
    supportRequesters { id email }
    tickets(first: 20) { id status createdAt }
    scrmFollowers { openid gender subscribed coupons { value { amount currency } } }
    wecomContacts { externalUserId name }
    marketplaceBuyers { id nick }
  }
}`;
export const FULL_360_GOLDEN = `query Full360Golden($ids: [ID!]!) {
  customers(ids: $ids) {
    id name phone email gender city memberTier
    rfm { segment }
    tags { name }
    lifecycle { stage }
    timeline(first: 20) { edges { node { kind at } } }
    supportRequesters { id }
    tickets(first: 5) { status }
  }
}`;
