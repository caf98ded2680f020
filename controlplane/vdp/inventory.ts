// What advisories are matched against: the images that run in the fleet,
// their components (purl and version, from their SBOMs) and the runtime
// evidence per component (loaded / not loaded since when / unknown). The
// reachability store (issue 12) is the one source; this narrow interface is
// all that matching, tickets, the gate and quarantine read, so that they do
// not depend on how that store is laid out.
import type { ReachStore } from '../reach/store';

export type ComponentReach =
  | { state: 'loaded'; first_ns: string; processes: number; containers: number; nodes: number; files: string[] }
  | { state: 'not_loaded'; since_ns: string; until_ns: string; gaps: number; nodes: string[]; containers: number; files: number }
  | { state: 'unknown'; reason: string };

export interface InventoryComponent {
  /** the purl as the SBOM gave it ('' without one: such a component cannot match an advisory) */
  purl: string;
  /** "type/namespace/name" lowercased */
  purl_key: string;
  name: string;
  version: string;
  reach: ComponentReach;
}

export interface InventoryImage {
  digest: string;
  /** repository name ('' when unknown) */
  name: string;
}

export interface ImageInventory {
  images(): InventoryImage[];
  /** the components of an image with their evidence */
  components(digest: string): InventoryComponent[];
  /** the workloads (SPIFFE IDs) and nodes seen running the image */
  runners(digest: string): { workloads: string[]; nodes: string[] };
}

/** An inventory with nothing in it (a control plane without the reachability store). */
export const EMPTY_INVENTORY: ImageInventory = {
  images: () => [],
  components: () => [],
  runners: () => ({ workloads: [], nodes: [] }),
};

/** The reachability store (controlplane/reach/store.ts, issue 12) as an inventory: its read API, nothing else. */
export function reachInventory(reach: ReachStore): ImageInventory {
  return {
    images: () => reach.images().map((i) => ({ digest: i.digest, name: i.name })),
    components: (digest) =>
      reach.evidence(digest).map(({ component: c, reach: r }) => ({
        purl: c.purl,
        purl_key: c.purl_key,
        name: c.name,
        version: c.version,
        reach:
          r.state === 'loaded'
            ? { state: 'loaded', first_ns: r.first_ns, processes: r.processes, containers: r.containers, nodes: r.nodes, files: r.files.map((f) => f.path) }
            : r.state === 'not_loaded'
              ? { state: 'not_loaded', since_ns: r.window.since_ns, until_ns: r.window.until_ns, gaps: r.window.gaps.length, nodes: r.window.nodes, containers: r.window.containers, files: r.files }
              : { state: 'unknown', reason: r.reason },
      })),
    runners: (digest) => {
      const w = reach.window(digest);
      return { workloads: w?.workloads ?? [], nodes: w?.nodes ?? [] };
    },
  };
}
