// The fleet's identity map: which workload (SPIFFE ID) is at which address,
// from every node's report. A node speaks only for itself: each entry is
// checked (a real CIDR, a SPIFFE ID of a workload trust domain, no wider than
// the limit, an address the node owns), and an address two nodes claim is
// a conflict, reported and left out of the map, never merged silently. The
// map reaches agents in chunks under their message limit, and changes as
// deltas, whatever the fleet's size.
import { formatCidr, parseCidr } from '../common/cidr';
import { checkSpiffeId } from '../common/spiffe/spiffe-id';
import type { IdentityMap } from '../common/proto/generated/vigil/v1/IdentityMap';
import type { AddressOwnership } from './node-ranges';

export interface IdentityPolicy {
  /** trust domains workload SPIFFE IDs may be in */
  trustDomains: readonly string[];
  /** the most host bits one entry may cover: 8 allows an IPv4 /24 and an IPv6 /120 */
  maxPrefixWidth: number;
  /** the most entries one node may report */
  maxEntries: number;
  /** who may claim what; null: nobody can be tied to an address, every report is refused */
  ownership: AddressOwnership | null;
}

export interface Claim {
  /** canonical text (formatCidr) */
  cidr: string;
  spiffe_id: string;
}

export type RefusalReason = 'not_a_cidr' | 'not_a_spiffe_id' | 'foreign_trust_domain' | 'too_wide' | 'not_owned' | 'duplicate' | 'too_many_entries';

export interface ReportCheck {
  accepted: Claim[];
  refused: { cidr: string; spiffe_id: string; reason: RefusalReason; why: string }[];
}

/** Check one node's report against the policy. */
export function checkReport(node: string, entries: readonly { cidr: string; spiffe_id: string }[], p: IdentityPolicy): ReportCheck {
  const out: ReportCheck = { accepted: [], refused: [] };
  if (entries.length > p.maxEntries) {
    for (const e of entries) out.refused.push({ ...e, reason: 'too_many_entries', why: `a report of ${entries.length} entries is over the limit of ${p.maxEntries}` });
    return out;
  }
  const seen = new Map<string, Claim>();
  const dup = new Set<string>();
  for (const e of entries) {
    const refuse = (reason: RefusalReason, why: string): void => void out.refused.push({ cidr: e.cidr, spiffe_id: e.spiffe_id, reason, why });
    const c = parseCidr(e.cidr);
    if (!c) {
      refuse('not_a_cidr', `${JSON.stringify(e.cidr.slice(0, 60))} is not an IP address or CIDR block`);
      continue;
    }
    const id = checkSpiffeId(e.spiffe_id);
    if (!id.ok) {
      refuse('not_a_spiffe_id', `${JSON.stringify(e.spiffe_id.slice(0, 80))} is not a SPIFFE ID: ${id.reason}`);
      continue;
    }
    if (!p.trustDomains.includes(id.id.trustDomain)) {
      refuse('foreign_trust_domain', `${e.spiffe_id} is not in a workload trust domain (${p.trustDomains.join(', ')})`);
      continue;
    }
    const hostBits = (c.family === 4 ? 32 : 128) - c.prefix;
    if (hostBits > p.maxPrefixWidth) {
      refuse('too_wide', `${formatCidr(c)} covers ${hostBits} host bits, over the limit of ${p.maxPrefixWidth}`);
      continue;
    }
    const owned = p.ownership ? p.ownership.check(node, c) : 'no address ownership is configured (--node-ranges, or Kubernetes): no node can be tied to an address';
    if (owned) {
      refuse('not_owned', owned);
      continue;
    }
    const cidr = formatCidr(c);
    const prev = seen.get(cidr);
    if (prev && prev.spiffe_id !== e.spiffe_id) {
      dup.add(cidr);
      continue;
    }
    seen.set(cidr, { cidr, spiffe_id: e.spiffe_id });
  }
  for (const [cidr, claim] of seen) {
    if (dup.has(cidr)) out.refused.push({ ...claim, reason: 'duplicate', why: `${cidr} is claimed for two workloads in the same report` });
    else out.accepted.push(claim);
  }
  return out;
}

/** Rough wire size of an entry (the strings and their tags), for chunking. */
function entryBytes(cidr: string, id: string, node: string): number {
  return cidr.length + id.length + node.length + 12;
}

/**
 * Every node's accepted claims, and what the agents get: the claims of
 * addresses only one node claims. Versioned; the full map's chunks are
 * built once per version.
 */
export class IdentityMapState {
  private readonly claims = new Map<string, Claim[]>();
  /** cidr -> the node claiming it, or the nodes (a conflict): one string in the usual case keeps 1M entries cheap */
  private readonly byCidr = new Map<string, string | string[]>();
  private versionN = 0;
  private conflictCount = 0;
  private cached: { version: number; maxBytes: number; chunks: IdentityMap[] } | null = null;

  get version(): number {
    return this.versionN;
  }

  /** Addresses more than one node claims now (left out of the map). */
  conflicts(): { cidr: string; nodes: string[] }[] {
    if (this.conflictCount === 0) return [];
    const out: { cidr: string; nodes: string[] }[] = [];
    for (const [cidr, nodes] of this.byCidr) if (typeof nodes !== 'string') out.push({ cidr, nodes: [...nodes].sort() });
    return out;
  }

  conflictTotal(): number {
    return this.conflictCount;
  }

  entryCount(): number {
    return this.byCidr.size - this.conflictCount;
  }

  /** What agents hold of a node: its claims no other node makes. */
  effective(node: string): Claim[] {
    return (this.claims.get(node) ?? []).filter((c) => typeof this.byCidr.get(c.cidr) === 'string');
  }

  /**
   * Replace a node's claims. Returns the nodes whose effective entries
   * changed (the node, and nodes whose address became or stopped being a
   * conflict), and the conflicts this change made.
   */
  set(node: string, list: readonly Claim[]): { changed: string[]; newConflicts: { cidr: string; nodes: string[] }[] } {
    const old = this.claims.get(node) ?? [];
    const key = (l: readonly Claim[]): string => l.map((c) => `${c.cidr}=${c.spiffe_id}`).join(',');
    const changed = new Set<string>();
    const ownBefore = key(this.effective(node));
    // addresses whose number of claimants crosses 1 <-> 2: their other claimants change too
    const nodesOf = (cidr: string): string[] => {
      const v = this.byCidr.get(cidr);
      return v === undefined ? [] : typeof v === 'string' ? [v] : v;
    };
    const put = (cidr: string, nodes: string[]): void => {
      if (nodes.length === 0) this.byCidr.delete(cidr);
      else this.byCidr.set(cidr, nodes.length === 1 ? nodes[0] : nodes);
    };
    const others = (cidr: string): string[] => nodesOf(cidr).filter((n) => n !== node);
    const crossed = (cidr: string, before: number, after: number): void => {
      if ((before > 1) === (after > 1)) return;
      this.conflictCount += after > 1 ? 1 : -1;
      for (const n of others(cidr)) changed.add(n);
    };
    const newConflicts: { cidr: string; nodes: string[] }[] = [];
    const oldSet = new Set(old.map((c) => c.cidr));
    const newSet = new Set(list.map((c) => c.cidr));
    for (const cidr of oldSet) {
      if (newSet.has(cidr)) continue;
      const s = nodesOf(cidr);
      const next = s.filter((n) => n !== node);
      crossed(cidr, s.length, next.length);
      put(cidr, next);
    }
    for (const cidr of newSet) {
      if (oldSet.has(cidr)) continue;
      const s = nodesOf(cidr);
      const next = [...s, node];
      crossed(cidr, s.length, next.length);
      put(cidr, next);
      if (next.length === 2) newConflicts.push({ cidr, nodes: [...next].sort() });
    }
    if (list.length) this.claims.set(node, [...list]);
    else this.claims.delete(node);
    if (key(this.effective(node)) !== ownBefore) changed.add(node);
    if (changed.size) this.versionN++;
    return { changed: [...changed].sort(), newConflicts };
  }

  /** The whole map as messages of at most about maxBytes each. */
  full(maxBytes: number): IdentityMap[] {
    if (this.cached && this.cached.version === this.versionN && this.cached.maxBytes === maxBytes) return this.cached.chunks;
    const entries: { cidr: string; spiffe_id: string; node: string }[] = [];
    for (const node of [...this.claims.keys()].sort()) for (const c of this.effective(node)) entries.push({ ...c, node });
    const chunks = this.chunk(entries, maxBytes, {});
    this.cached = { version: this.versionN, maxBytes, chunks };
    return chunks;
  }

  /** The change of some nodes since `base`, as messages of at most about maxBytes each. */
  delta(nodes: readonly string[], base: number, maxBytes: number): IdentityMap[] {
    const entries = nodes.flatMap((node) => this.effective(node).map((c) => ({ ...c, node })));
    return this.chunk(entries, maxBytes, { delta: true, replaced_nodes: [...nodes], base_version: base });
  }

  private chunk(entries: { cidr: string; spiffe_id: string; node: string }[], maxBytes: number, extra: Partial<IdentityMap>): IdentityMap[] {
    const groups: (typeof entries)[] = [[]];
    let size = 0;
    for (const e of entries) {
      const b = entryBytes(e.cidr, e.spiffe_id, e.node);
      if (size + b > maxBytes && groups[groups.length - 1].length > 0) {
        groups.push([]);
        size = 0;
      }
      groups[groups.length - 1].push(e);
      size += b;
    }
    return groups.map((g, i) => ({ version: this.versionN, entries: g, chunk: i, chunks: groups.length, ...extra }));
  }
}
