/** Builds the four connectors from config, all reporting through one observer. */
import type { Config } from '../config';
import type { SourceObserver } from './observe';
import type { Connectors } from './types';
import { createCrmConnector } from './crm';
import { createOrdersConnector } from './orders';
import { createSupportConnector } from './support';
import { createScrmConnector } from './scrm';

export function createConnectors(sources: Config['sources'], observer: SourceObserver): Connectors {
  return {
    crm: createCrmConnector(sources.crm, observer),
    orders: createOrdersConnector(sources.orders, observer),
    support: createSupportConnector(sources.support, observer),
    scrm: createScrmConnector(sources.scrm, observer),
  };
}

export async function closeConnectors(c: Connectors): Promise<void> {
  await Promise.allSettled(Object.values(c).map((x) => x.close()));
}
