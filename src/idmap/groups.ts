/**
 * Union-find over the nodes of one linking batch (customers and records), each root holding
 * its group: the customers and batch records in it, and the profile they add up to.
 */
import { mergeProfileInto, type Profile } from './evidence';

export interface Group {
  profile: Profile;
  customers: string[];
  /** Batch record keys. */
  records: string[];
  /** Only unresolved records from outside the batch: weighed as evidence, never joined. */
  outsideOnly: boolean;
}

export class Groups {
  private readonly parent = new Map<string, string>();
  private readonly byRoot = new Map<string, Group>();

  has(node: string): boolean {
    return this.parent.has(node);
  }

  /** Adds a node in a group of its own; a node already known is left as it is. */
  add(node: string, group: Group): void {
    if (this.parent.has(node)) return;
    this.parent.set(node, node);
    this.byRoot.set(node, group);
  }

  find(node: string): string {
    let root = node;
    for (let up = this.parent.get(root); up !== root; up = this.parent.get(root)) {
      if (up === undefined) throw new Error(`Groups: unknown node ${node}`);
      root = up;
    }
    for (let x = node; x !== root;) {
      const next = this.parent.get(x) as string;
      this.parent.set(x, root);
      x = next;
    }
    return root;
  }

  /** The group of a node's root. */
  of(node: string): Group {
    return this.byRoot.get(this.find(node)) as Group;
  }

  /** Joins two nodes' groups (the smaller into the larger); answers the root. */
  union(a: string, b: string): string {
    let ra = this.find(a);
    let rb = this.find(b);
    if (ra === rb) return ra;
    if (size(this.byRoot.get(ra) as Group) < size(this.byRoot.get(rb) as Group)) [ra, rb] = [rb, ra];
    const big = this.byRoot.get(ra) as Group;
    const small = this.byRoot.get(rb) as Group;
    this.parent.set(rb, ra);
    this.byRoot.delete(rb);
    mergeProfileInto(big.profile, small.profile);
    for (const c of small.customers) big.customers.push(c);
    for (const r of small.records) big.records.push(r);
    big.outsideOnly = big.outsideOnly && small.outsideOnly;
    return ra;
  }
}

const size = (g: Group) => g.customers.length + g.records.length;
