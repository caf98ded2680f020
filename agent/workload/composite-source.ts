// Several identity sources as one (the identities file for host services and
// Kubernetes for pods): the first source that names a cgroup wins.
import type { AddressIdentity, CgroupFacts, IdentityChange, IdentitySource, KubernetesMeta } from './source';
import type { ImageRef } from '../../common/image-ref';

export class CompositeIdentitySource implements IdentitySource {
  readonly name: string;

  constructor(private readonly sources: readonly IdentitySource[]) {
    this.name = sources.map((s) => s.name).join(' + ');
  }

  spiffeIdFor(cg: CgroupFacts): string | null {
    for (const s of this.sources) {
      const id = s.spiffeIdFor(cg);
      if (id !== null) return id;
    }
    return null;
  }

  imageFor(cg: CgroupFacts): ImageRef | null {
    for (const s of this.sources) {
      const m = s.imageFor?.(cg) ?? null;
      if (m !== null) return m;
    }
    return null;
  }

  metaFor(cg: CgroupFacts): KubernetesMeta | null {
    for (const s of this.sources) {
      const m = s.metaFor?.(cg) ?? null;
      if (m !== null) return m;
    }
    return null;
  }

  pending(cg: CgroupFacts): boolean {
    // a cgroup another source names is not waiting for anyone
    if (this.sources.some((s) => !s.pending && s.spiffeIdFor(cg) !== null)) return false;
    return this.sources.some((s) => s.pending?.(cg) ?? false);
  }

  addresses(): readonly AddressIdentity[] {
    return this.sources.flatMap((s) => s.addresses());
  }

  spiffeIds(): readonly string[] {
    return [...new Set(this.sources.flatMap((s) => s.spiffeIds()))];
  }

  subscribe(cb: (c: IdentityChange) => void): void {
    for (const s of this.sources) s.subscribe?.(cb);
  }

  async close(): Promise<void> {
    for (const s of this.sources) await s.close?.();
  }
}
