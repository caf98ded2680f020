// Workloads as the kernel knows them: each SPIFFE ID gets a small index
// (1..), which the cgroups map and the rule maps carry instead of the ID.
// Index 0 is "no workload" (host processes).

/**
 * SPIFFE ID -> kernel workload index (1..), stable for the agent's lifetime
 * and, with pinned maps, across agents: every new index is written to the
 * kernel's workload_names map (onNew), and the next agent restores the table
 * from it before it maps anything, so the indices already in the kernel (the
 * cgroups map, the rules, the tasks' origins) keep meaning the same workload.
 */
export class WorkloadTable {
  private readonly byId = new Map<string, number>();
  private readonly byIndex = new Map<number, string>();
  private next = 1;

  constructor(private readonly onNew?: (index: number, spiffeId: string) => void) {}

  index(spiffeId: string): number {
    let i = this.byId.get(spiffeId);
    if (i === undefined) {
      i = this.next++;
      this.byId.set(spiffeId, i);
      this.byIndex.set(i, spiffeId);
      this.onNew?.(i, spiffeId);
    }
    return i;
  }

  /** Take over the indices a previous agent gave (from the kernel's workload_names map). */
  restore(entries: Iterable<[number, string]>): void {
    for (const [i, id] of entries) {
      if (i < 1 || this.byIndex.has(i) || this.byId.has(id)) continue;
      this.byId.set(id, i);
      this.byIndex.set(i, id);
      if (i >= this.next) this.next = i + 1;
    }
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
