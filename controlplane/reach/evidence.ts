// Runtime evidence per component of an image, from what the agents
// reported: which files of the image were loaded (executed, opened as code,
// mapped executable), and over which window the image was watched without a
// gap. Pure functions over rows the store reads (controlplane/reach/store.ts).
//
// The observation window of an image digest starts when the first agent
// began watching a container of it and ends at the latest report; it
// restarts after a gap, because a gap is time in which a load may have been
// missed:
//   - events were lost for a watched container (the agent's loss counters),
//   - the same container on the same node was watched by two agent runs with
//     time between them that neither covered (agent down, not taken over).
// A component none of whose files was loaded is "not loaded since" the
// window's start; whether that window is long enough is the reader's call
// (`vigil vex --min-window`).

/** One container of an image watched by one agent run. */
export interface WatchRow {
  node: string;
  /** the agent run (a new one at each agent start that did not take over its predecessor's state) */
  run: string;
  container: string;
  workload: string;
  /** watched without a gap since (ns since the epoch, decimal text) */
  since_ns: string;
  /** the latest report covering it */
  until_ns: string;
  /** events lost for this container in this run */
  lost: number;
  /** when the last loss was seen ('0': none) */
  lost_at_ns: string;
}

/** A file of the image some process loaded, merged across nodes and pods. */
export interface LoadedFile {
  path: string;
  first_ns: string;
  /** how it was first seen: exec, open, mmap, maps (at agent start-up) */
  how: string;
  /** processes reported loading it (the first per container and agent run: later loads are deduplicated in the kernel) */
  processes: number;
  containers: number;
  nodes: number;
}

export interface Gap {
  from_ns: string;
  to_ns: string;
  node: string;
  container: string;
  why: 'events lost' | 'agent down';
}

export interface ObservationWindow {
  /** start of the current gap-free window (the first watch, or the end of the latest gap) */
  since_ns: string;
  /** the latest report */
  until_ns: string;
  /** when the first agent began watching this image (before any gap) */
  first_watch_ns: string;
  gaps: Gap[];
  nodes: string[];
  /** containers (pods) of the image seen, by their container id */
  containers: number;
  workloads: string[];
}

const big = (s: string): bigint => BigInt(s);
const maxNs = (a: string, b: string): string => (big(a) >= big(b) ? a : b);
const minNs = (a: string, b: string): string => (big(a) <= big(b) ? a : b);

/** The observation window of one image from its watch rows; null when it was never watched. */
export function observationWindow(watches: readonly WatchRow[]): ObservationWindow | null {
  if (watches.length === 0) return null;
  let first = watches[0].since_ns;
  let until = watches[0].until_ns;
  for (const w of watches) {
    first = minNs(first, w.since_ns);
    until = maxNs(until, w.until_ns);
  }
  const gaps: Gap[] = [];
  for (const w of watches) {
    if (w.lost > 0) gaps.push({ from_ns: w.lost_at_ns, to_ns: w.lost_at_ns, node: w.node, container: w.container, why: 'events lost' });
  }
  // the same container watched by successive runs of one node's agent: a hole between them is a gap
  const byContainer = new Map<string, WatchRow[]>();
  for (const w of watches) {
    const k = `${w.node}\u0000${w.container}`;
    const l = byContainer.get(k);
    if (l) l.push(w);
    else byContainer.set(k, [w]);
  }
  for (const list of byContainer.values()) {
    list.sort((a, b) => (big(a.since_ns) < big(b.since_ns) ? -1 : big(a.since_ns) > big(b.since_ns) ? 1 : 0));
    let coveredTo = list[0].until_ns;
    for (let i = 1; i < list.length; i++) {
      const w = list[i];
      if (big(w.since_ns) > big(coveredTo)) gaps.push({ from_ns: coveredTo, to_ns: w.since_ns, node: w.node, container: w.container, why: 'agent down' });
      coveredTo = maxNs(coveredTo, w.until_ns);
    }
  }
  let since = first;
  for (const g of gaps) since = maxNs(since, g.to_ns);
  gaps.sort((a, b) => (big(a.from_ns) < big(b.from_ns) ? -1 : 1));
  return {
    since_ns: since,
    until_ns: until,
    first_watch_ns: first,
    gaps,
    nodes: [...new Set(watches.map((w) => w.node))].sort(),
    containers: new Set(watches.map((w) => `${w.node}\u0000${w.container}`)).size,
    workloads: [...new Set(watches.map((w) => w.workload).filter((x) => x))].sort(),
  };
}

/** A component of an image, with the files it owns (canonical paths: directory aliases of the image applied). */
export interface ComponentFiles {
  files: readonly string[];
}

export type Reach =
  | { state: 'loaded'; first_ns: string; processes: number; containers: number; nodes: number; files: LoadedFile[] }
  | { state: 'not_loaded'; window: ObservationWindow; files: number }
  | { state: 'unknown'; reason: string };

/** What the evidence says about one component. */
export function componentReach(c: ComponentFiles, loaded: ReadonlyMap<string, LoadedFile>, window: ObservationWindow | null): Reach {
  const hits: LoadedFile[] = [];
  for (const f of c.files) {
    const l = loaded.get(f);
    if (l) hits.push(l);
  }
  if (hits.length > 0) {
    hits.sort((a, b) => (big(a.first_ns) < big(b.first_ns) ? -1 : big(a.first_ns) > big(b.first_ns) ? 1 : a.path.localeCompare(b.path)));
    return {
      state: 'loaded',
      first_ns: hits[0].first_ns,
      processes: hits.reduce((n, h) => n + h.processes, 0),
      containers: Math.max(...hits.map((h) => h.containers)),
      nodes: Math.max(...hits.map((h) => h.nodes)),
      files: hits,
    };
  }
  if (c.files.length === 0) return { state: 'unknown', reason: 'the files of this component are not known (the SBOM lists none and no package database of the image named any)' };
  if (!window) return { state: 'unknown', reason: 'no container of this image was watched by an agent' };
  return { state: 'not_loaded', window, files: c.files.length };
}

/** Directory symlinks of an image (/lib -> /usr/lib), longest first: a file's canonical path, the one the kernel reports. */
export function canonicalPath(p: string, aliases: readonly { link: string; target: string }[]): string {
  // aliases are applied repeatedly (a link inside a link's target), at most a few times
  let out = p;
  for (let round = 0; round < 8; round++) {
    const a = aliases.find((x) => out === x.link || out.startsWith(x.link + '/'));
    if (!a) break;
    out = a.target + out.slice(a.link.length);
  }
  return out;
}
