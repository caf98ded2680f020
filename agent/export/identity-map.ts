// The fleet's identity map as the control plane sends it: whole in chunks
// (each under the message limit) or as deltas (a few nodes' entries
// replaced). A version takes effect only once all its chunks are here.
import type { IdentityMap__Output } from '../../common/proto/generated/vigil/v1/IdentityMap';

export interface MapEntry {
  cidr: string;
  spiffe_id: string;
  node: string;
}

export class IdentityMapAssembler {
  /** node -> its entries, as last applied */
  private byNode = new Map<string, MapEntry[]>();
  private version = -1;
  private pending: { version: number; chunks: number; got: Map<number, MapEntry[]>; delta: boolean; replaced: string[]; base: number } | null = null;

  /**
   * Take one message. Returns every entry once a version is complete, null
   * while chunks are missing; throws when a delta does not apply on top of
   * what is held (the caller reconnects for a whole map).
   */
  take(m: IdentityMap__Output): MapEntry[] | null {
    const version = Number(m.version);
    const chunks = m.chunks || 1;
    if (!this.pending || this.pending.version !== version || this.pending.delta !== m.delta) {
      this.pending = { version, chunks, got: new Map(), delta: m.delta, replaced: m.replaced_nodes, base: Number(m.base_version) };
    }
    this.pending.got.set(m.chunk, m.entries.map((e) => ({ cidr: e.cidr, spiffe_id: e.spiffe_id, node: e.node })));
    if (this.pending.got.size < this.pending.chunks) return null;
    const p = this.pending;
    this.pending = null;
    const entries = [...p.got.keys()].sort((a, b) => a - b).flatMap((k) => p.got.get(k) ?? []);
    if (p.delta) {
      if (p.base !== this.version) throw new Error(`identity map delta v${p.version} is on top of v${p.base}, this agent holds v${this.version}`);
      for (const n of p.replaced) this.byNode.delete(n);
    } else {
      this.byNode = new Map();
    }
    for (const e of entries) {
      const l = this.byNode.get(e.node);
      if (l) l.push(e);
      else this.byNode.set(e.node, [e]);
    }
    this.version = p.version;
    return [...this.byNode.values()].flat();
  }

  /** A new stream: the control plane starts with a whole map. */
  reset(): void {
    this.pending = null;
  }
}
