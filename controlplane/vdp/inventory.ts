// What advisories are matched against: the images that run in the fleet,
// their components (purl and version, from their SBOMs) and the runtime
// evidence per component (loaded / not loaded since when / unknown). The
// reachability store (issue 12) is the one source; this narrow interface is
// all that matching, tickets, the gate and quarantine read, so that they do
// not depend on how that store is laid out.

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
