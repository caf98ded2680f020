// What agents send about images (ReachReport, ImageInventory) into the
// reachability store, each answered by a ReachAck once stored (or refused,
// with the reason: a refused report is not resent). New loads of a
// component a VEX document said not_affected revoke it at once (vex.ts).
import { canonicalJson } from '../../common/canonical-json';
import { errorMessage } from '../../common/errors';
import type { ImageInventory__Output } from '../../common/proto/generated/vigil/v1/ImageInventory';
import type { ReachAck } from '../../common/proto/generated/vigil/v1/ReachAck';
import type { ReachReport__Output } from '../../common/proto/generated/vigil/v1/ReachReport';
import type { SbomComponent__Output } from '../../common/proto/generated/vigil/v1/SbomComponent';
import { createHash } from 'node:crypto';
import { isAbsolutePath, type ComponentIn, type FileSource, type ReachStore } from './store';
import type { VexIssuer } from './vex';

const FILE_SOURCES: readonly FileSource[] = ['cyclonedx-occurrences', 'syft-location', 'trivy-filepath', 'spdx-contains', 'dpkg', 'apk', 'python-record', 'npm-package'];
export const INVENTORY_LIMITS = { components: 100_000, files: 2_000_000, text: 4096, parts: 256, partsWaitMs: 10 * 60_000, setsPerNode: 8 };

/** Components as the wire carries them, checked: bounded counts and strings, absolute paths, known sources. Throws naming the first fault. */
export function componentsFromWire(list: readonly SbomComponent__Output[], where: string, sourcesAllowed: readonly FileSource[] = FILE_SOURCES): ComponentIn[] {
  if (list.length > INVENTORY_LIMITS.components) throw new Error(`${where}: ${list.length} components, more than ${INVENTORY_LIMITS.components}`);
  let files = 0;
  return list.map((c, i) => {
    const at = `${where}.components[${i}]`;
    for (const k of ['ref', 'name', 'version', 'purl', 'type'] as const) {
      if (c[k].length > INVENTORY_LIMITS.text) throw new Error(`${at}.${k}: longer than ${INVENTORY_LIMITS.text}`);
    }
    if (!c.name) throw new Error(`${at}.name: empty`);
    files += c.files.length;
    if (files > INVENTORY_LIMITS.files) throw new Error(`${where}: more than ${INVENTORY_LIMITS.files} files`);
    return {
      ref: c.ref || `${c.name}@${c.version}`,
      name: c.name,
      version: c.version,
      purl: c.purl,
      type: c.type || 'library',
      files: c.files.map((f, j) => {
        if (!isAbsolutePath(f.path)) throw new Error(`${at}.files[${j}].path: not an absolute, normal path`);
        if (!(sourcesAllowed as readonly string[]).includes(f.source)) throw new Error(`${at}.files[${j}].source: "${f.source.slice(0, 40)}" is not one of ${sourcesAllowed.join(', ')}`);
        return { path: f.path, source: f.source as FileSource };
      }),
    };
  });
}

export class ReachIngest {
  /** reports and inventories stored / refused (metrics) */
  readonly counts = { reports: 0, inventories: 0, refused: 0, revocations: 0 };

  constructor(
    private readonly reach: ReachStore,
    private readonly vex: VexIssuer,
    private readonly log: (line: string) => void,
  ) {}

  report(node: string, r: ReachReport__Output): ReachAck {
    try {
      const fresh = this.reach.recordReport({
        node,
        run: r.run,
        digest: r.digest,
        name: r.name,
        aliases: r.aliases_known ? r.aliases.map((a) => ({ link: a.link, target: a.target })) : null,
        watches: r.watches.map((w) => ({
          container: w.container,
          workload: w.workload,
          since_ns: w.since_unix_nano,
          until_ns: w.until_unix_nano,
          lost: Number(w.lost),
          lost_at_ns: w.lost_at_unix_nano,
          loads: w.loads.map((l) => ({ path: l.path, first_ns: l.first_unix_nano, how: l.how, processes: l.processes })),
        })),
      });
      this.counts.reports++;
      if (fresh.length) {
        const revoked = this.vex.onLoads(r.digest);
        if (revoked) {
          this.counts.revocations++;
          this.log(`vex: ${r.digest} version ${revoked.version} issued: a component said not_affected was loaded (vigil vex --changes)`);
        }
      }
      return { id: r.id, error: '' };
    } catch (err) {
      this.counts.refused++;
      this.log(`reach report ${r.id} from ${node} refused: ${errorMessage(err)}`);
      return { id: r.id, error: errorMessage(err) };
    }
  }

  /** parts of inventories still coming in, per node and set */
  private readonly partial = new Map<string, { digest: string; name: string; parts: number; got: Map<number, { id: string; components: ComponentIn[] }>; since: number }>();

  /** An inventory (or one part of one): the acknowledgements to send (none until every part of a set has arrived). */
  inventory(node: string, inv: ImageInventory__Output): ReachAck[] {
    const where = `inventory ${inv.id} from ${node}`;
    let components: ComponentIn[];
    try {
      if (!/^sha256:[0-9a-f]{64}$/.test(inv.digest)) throw new Error(`${where}: digest: not a sha256 digest`);
      components = componentsFromWire(inv.components, where, ['dpkg', 'apk', 'python-record', 'npm-package']);
    } catch (err) {
      this.counts.refused++;
      this.log(`image inventory ${inv.id} from ${node} refused: ${errorMessage(err)}`);
      return [{ id: inv.id, error: errorMessage(err) }];
    }
    if (inv.parts <= 1) return [this.storeInventory(node, inv.digest, inv.name, components, [inv.id])[0]];
    // one part of several
    const now = Date.now();
    for (const [k, p] of this.partial) if (now - p.since > INVENTORY_LIMITS.partsWaitMs) this.partial.delete(k);
    const refuse = (why: string): ReachAck[] => {
      this.counts.refused++;
      this.log(`image inventory ${inv.id} from ${node} refused: ${why}`);
      return [{ id: inv.id, error: why }];
    };
    if (inv.parts > INVENTORY_LIMITS.parts || inv.part >= inv.parts || !inv.set || inv.set.length > 128) return refuse(`${where}: part ${inv.part} of ${inv.parts} (set "${inv.set.slice(0, 40)}"): not a part of at most ${INVENTORY_LIMITS.parts}`);
    const key = `${node}\u0000${inv.set}`;
    let p = this.partial.get(key);
    if (!p) {
      if ([...this.partial.keys()].filter((k) => k.startsWith(`${node}\u0000`)).length >= INVENTORY_LIMITS.setsPerNode) return refuse(`${where}: more than ${INVENTORY_LIMITS.setsPerNode} inventories in parts at once`);
      p = { digest: inv.digest, name: inv.name, parts: inv.parts, got: new Map(), since: now };
      this.partial.set(key, p);
    }
    if (p.digest !== inv.digest || p.parts !== inv.parts) return refuse(`${where}: part ${inv.part} does not belong to the set it names`);
    p.got.set(inv.part, { id: inv.id, components });
    const files = [...p.got.values()].reduce((n, x) => n + x.components.reduce((m, c) => m + c.files.length, 0), 0);
    if (files > INVENTORY_LIMITS.files) {
      this.partial.delete(key);
      return refuse(`${where}: more than ${INVENTORY_LIMITS.files} files in all parts`);
    }
    if (p.got.size < p.parts) return [];
    this.partial.delete(key);
    const ordered = [...p.got.entries()].sort((a, b) => a[0] - b[0]);
    // a package split across parts (more files than one part holds) is one component again
    const byRef = new Map<string, ComponentIn>();
    for (const [, x] of ordered) {
      for (const c of x.components) {
        const had = byRef.get(c.ref);
        byRef.set(c.ref, had ? { ...had, files: [...had.files, ...c.files] } : c);
      }
    }
    return this.storeInventory(node, p.digest, p.name, [...byRef.values()], ordered.map(([, x]) => x.id));
  }

  private storeInventory(node: string, digest: string, name: string, components: ComponentIn[], ids: string[]): ReachAck[] {
    const inv = { digest, name };
    try {
      // the hash is ours, of what we store: a node cannot make us skip a changed inventory
      const sha256 = createHash('sha256').update(canonicalJson(components)).digest('hex');
      if (this.reach.sbomSha(inv.digest, 'agent') !== sha256) {
        this.reach.putSbom({ digest: inv.digest, name: inv.name, origin: 'agent', format: 'package-databases', sha256, by: node, components });
        // files now mapped to a component a document said not_affected may have been loaded already
        if (this.vex.onLoads(inv.digest)) this.counts.revocations++;
      }
      this.counts.inventories++;
      return ids.map((id) => ({ id, error: '' }));
    } catch (err) {
      this.counts.refused++;
      this.log(`image inventory of ${digest} from ${node} refused: ${errorMessage(err)}`);
      return ids.map((id) => ({ id, error: errorMessage(err) }));
    }
  }
}
