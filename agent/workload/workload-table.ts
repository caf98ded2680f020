// Workloads as the kernel knows them: each SPIFFE ID gets a small index
// (1..), which the cgroups map and the rule maps carry instead of the ID.
// Index 0 is "no workload" (host processes).

/** SPIFFE ID -> kernel workload index (1..), stable for the agent's lifetime. */
export class WorkloadTable {
  private readonly byId = new Map<string, number>();
  private readonly byIndex = new Map<number, string>();

  index(spiffeId: string): number {
    let i = this.byId.get(spiffeId);
    if (i === undefined) {
      i = this.byId.size + 1;
      this.byId.set(spiffeId, i);
      this.byIndex.set(i, spiffeId);
    }
    return i;
  }

  get size(): number {
    return this.byId.size;
  }

  spiffeId(index: number): string | undefined {
    return this.byIndex.get(index);
  }

  entries(): [string, number][] {
    return [...this.byId.entries()];
  }
}
