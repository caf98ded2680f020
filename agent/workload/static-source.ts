// The static identities file (`--identities FILE`): cgroups, container ids
// and addresses mapped to SPIFFE IDs, for hosts, tests and `vigil up`.
//
//   workloads:
//     - spiffe_id: spiffe://example.org/ns/payments/sa/api
//       cgroups: [vigil-demo/payments-api]      # relative to the cgroup v2 root; globs allowed
//       container_ids: []                       # optional
//       addresses: [10.200.1.2, 10.201.0.0/24]  # optional, for destination rules
//       image: registry.example/payments/api:1.4@sha256:...  # optional: the image it runs (reachability, VEX, rules)
import * as fs from 'node:fs';
import { isMap, isScalar, isSeq, type Node, type Pair } from 'yaml';
import { errorMessage, VigilError } from '../../common/errors';
import { parseCidr } from '../../common/cidr';
import { compileGlob, globError, type Glob } from '../rules/glob';
import type { SourceFile } from '../../common/source-pos';
import { keyOf, YamlReader } from '../../common/yaml-reader';
import type { AddressIdentity, CgroupFacts, IdentitySource } from './source';
import { checkSpiffeId } from '../../common/spiffe/spiffe-id';
import { parseImageRef, type ImageRef } from '../../common/image-ref';

interface StaticWorkload {
  spiffeId: string;
  cgroups: Glob[];
  containerIds: Set<string>;
  image: ImageRef | null;
}

export class StaticIdentitySource implements IdentitySource {
  readonly name: string;
  private readonly workloads: StaticWorkload[];
  private readonly addrs: AddressIdentity[];
  private readonly cache = new Map<string, StaticWorkload | null>();

  private constructor(name: string, workloads: StaticWorkload[], addrs: AddressIdentity[]) {
    this.name = name;
    this.workloads = workloads;
    this.addrs = addrs;
  }

  static empty(): StaticIdentitySource {
    return new StaticIdentitySource('none', [], []);
  }

  static load(path: string): StaticIdentitySource {
    let text: string;
    try {
      text = fs.readFileSync(path, 'utf8');
    } catch (err) {
      throw new VigilError('IDENTITIES', `${path}: cannot read: ${errorMessage(err)}`);
    }
    return StaticIdentitySource.parse({ name: path, text });
  }

  /** Parse identities text; every problem is reported with file:line:col. */
  static parse(file: SourceFile): StaticIdentitySource {
    const r = new YamlReader(file);
    const fail = (node: Node | null | undefined, msg: string): void => r.fail(node, msg);
    const root = r.parse();
    if (root === undefined) throw new VigilError('IDENTITIES', r.problems.join('\n'));
    const workloads: StaticWorkload[] = [];
    const addrs: AddressIdentity[] = [];
    if (!isMap(root)) {
      fail(root as Node, 'top level: expected a map with a "workloads" list');
    } else {
      for (const p of root.items) if (keyOf(p) !== 'workloads') fail(p.key as Node, `top level: unknown key "${keyOf(p)}" (expected workloads)`);
      const wl = root.items.find((p) => keyOf(p) === 'workloads');
      if (!wl || !isSeq(wl.value)) {
        fail((wl?.value ?? root) as Node, 'workloads: expected a list');
      } else {
        wl.value.items.forEach((item, i) => {
          const where = `workloads[${i}]`;
          if (!isMap(item)) {
            fail(item as Node, `${where}: expected a map with spiffe_id, cgroups, container_ids, addresses, image`);
            return;
          }
          const w: StaticWorkload = { spiffeId: '', cgroups: [], containerIds: new Set(), image: null };
          /** the list's strings, each with its own node (a problem is reported at the item, not the list) */
          const list = (p: Pair, what: string): [string, Node][] => {
            if (!isSeq(p.value)) {
              fail(p.value as Node, `${what}: expected a list`);
              return [];
            }
            return p.value.items.flatMap((x): [string, Node][] => {
              if (isScalar(x) && typeof x.value === 'string') return [[x.value, x]];
              fail(x as Node, `${what}: expected strings`);
              return [];
            });
          };
          for (const p of item.items) {
            const k = keyOf(p);
            const what = `${where}.${k}`;
            if (k === 'spiffe_id') {
              if (!isScalar(p.value) || typeof p.value.value !== 'string') {
                fail(p.value as Node, `${what}: expected a SPIFFE ID`);
                continue;
              }
              const c = checkSpiffeId(p.value.value);
              if (!c.ok) fail(p.value as Node, `${what}: invalid SPIFFE ID "${p.value.value}": ${c.reason}`);
              else w.spiffeId = p.value.value;
            } else if (k === 'cgroups') {
              for (const [g, at] of list(p, what)) {
                const e = globError(g);
                if (e) fail(at, `${what}: ${e}`);
                else w.cgroups.push(compileGlob(g.replace(/^\/+/, '').replace(/\/+$/, '')));
              }
            } else if (k === 'container_ids') {
              for (const [id, at] of list(p, what)) {
                if (!/^[0-9a-f]{12,64}$/.test(id)) fail(at, `${what}: "${id}" is not a container id (12 to 64 lowercase hex digits)`);
                else w.containerIds.add(id);
              }
            } else if (k === 'addresses') {
              for (const [a, at] of list(p, what)) {
                const c = parseCidr(a);
                if (!c) fail(at, `${what}: "${a}" is not an IP address or CIDR block`);
                else addrs.push({ cidr: c, spiffeId: '' });
              }
            } else if (k === 'image') {
              const v = isScalar(p.value) && typeof p.value.value === 'string' ? parseImageRef(p.value.value) : { error: 'expected an image reference (name[:tag][@sha256:...])' };
              if ('error' in v) fail(p.value as Node, `${what}: ${v.error}`);
              else w.image = v;
            } else {
              fail(p.key as Node, `${where}: unknown key "${k}" (expected spiffe_id, cgroups, container_ids, addresses, image)`);
            }
          }
          if (!item.items.some((p) => keyOf(p) === 'spiffe_id')) fail(item, `${where}: missing spiffe_id`);
          for (const a of addrs) if (a.spiffeId === '') a.spiffeId = w.spiffeId;
          workloads.push(w);
        });
      }
    }
    if (r.problems.length) throw new VigilError('IDENTITIES', r.problems.join('\n'));
    return new StaticIdentitySource(file.name, workloads, addrs);
  }

  spiffeIdFor(cg: CgroupFacts): string | null {
    return this.match(cg)?.spiffeId ?? null;
  }

  imageFor(cg: CgroupFacts): ImageRef | null {
    return this.match(cg)?.image ?? null;
  }

  /** The workload of a cgroup: by container id, else the cgroup or its deepest ancestor that a workload names. */
  private match(cg: CgroupFacts): StaticWorkload | null {
    const cacheKey = `${cg.path}\0${cg.containerId ?? ''}`;
    const hit = this.cache.get(cacheKey);
    if (hit !== undefined) return hit;
    let found: StaticWorkload | null = null;
    if (cg.containerId) {
      for (const w of this.workloads) {
        for (const id of w.containerIds) if (cg.containerId.startsWith(id)) found = w;
        if (found) break;
      }
    }
    if (!found) {
      // the cgroup itself or its deepest ancestor that a workload names
      let p = cg.path.replace(/^\/+/, '');
      while (!found && p !== '') {
        for (const w of this.workloads) {
          if (w.cgroups.some((g) => g.test(p))) {
            found = w;
            break;
          }
        }
        const slash = p.lastIndexOf('/');
        p = slash < 0 ? '' : p.slice(0, slash);
      }
    }
    if (this.cache.size > 65536) this.cache.clear();
    this.cache.set(cacheKey, found);
    return found;
  }

  addresses(): readonly AddressIdentity[] {
    return this.addrs;
  }

  spiffeIds(): readonly string[] {
    return [...new Set(this.workloads.map((w) => w.spiffeId))];
  }
}
