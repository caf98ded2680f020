// Which addresses each node may claim for its workloads, from a file the
// operator writes (--node-ranges), when the control plane cannot ask
// Kubernetes: a node speaks only for the pod CIDRs it was given.
//
//   nodes:
//     node-1: [10.244.1.0/24, fd00:10:244:1::/64]
//     node-2: [10.244.2.0/24]
//
// Two nodes' ranges may not overlap: an address then has one owner, and a
// claim by anyone else is refused.
import * as fs from 'node:fs';
import { isMap, isSeq, type Node } from 'yaml';
import { cidrContains, formatCidr, parseCidr, type Cidr } from '../common/cidr';
import { errorMessage } from '../common/errors';
import { keyOf, YamlReader } from '../common/yaml-reader';
import { checkNodeName } from './alert-check';
import { CpError } from './errors';

/** Who may claim an address for a workload. */
export interface AddressOwnership {
  /** where the answer comes from, for messages ("--node-ranges FILE", "Kubernetes") */
  readonly source: string;
  /** null when `node` may claim `cidr`; else why not */
  check(node: string, cidr: Cidr): string | null;
}

export class NodeRanges implements AddressOwnership {
  readonly source: string;

  constructor(
    private readonly ranges: ReadonlyMap<string, readonly Cidr[]>,
    file: string,
  ) {
    this.source = `--node-ranges ${file}`;
  }

  check(node: string, c: Cidr): string | null {
    const mine = this.ranges.get(node);
    if (!mine || mine.length === 0) return `node ${node} has no address ranges in ${this.source}`;
    if (mine.some((r) => r.family === c.family && r.prefix <= c.prefix && cidrContains(r, c.family, c.addr))) return null;
    return `${formatCidr(c)} is not in node ${node}'s ranges (${mine.map(formatCidr).join(', ')})`;
  }
}

/** Read and check a ranges file; every problem named by file:line:col, nothing loaded if any. */
export function loadNodeRanges(file: string): NodeRanges {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new CpError('CONFIG', `--node-ranges ${file}: ${errorMessage(err)}`);
  }
  const r = new YamlReader({ name: file, text });
  const root = r.parse();
  const ranges = new Map<string, Cidr[]>();
  const where = new Map<Cidr, Node>();
  const top = root === undefined ? undefined : r.mapPairs(root, 'the file', ['nodes']);
  const nodesNode = top?.find((p) => keyOf(p) === 'nodes')?.value as Node | undefined;
  if (top && !isMap(nodesNode)) r.fail(nodesNode ?? root, 'nodes: expected a map of node name to address ranges');
  if (isMap(nodesNode)) {
    for (const p of nodesNode.items) {
      const node = keyOf(p);
      const bad = checkNodeName(node);
      if (bad) r.fail(p.key as Node, bad);
      if (!isSeq(p.value)) {
        r.fail(p.value as Node, `node ${node}: expected a list of CIDR blocks`);
        continue;
      }
      const list: Cidr[] = [];
      for (const item of p.value.items) {
        const s = r.str(item, `node ${node}`);
        if (s === undefined) continue;
        const c = parseCidr(s);
        if (!c) {
          r.fail(item as Node, `node ${node}: "${s}" is not an IP address or CIDR block`);
          continue;
        }
        list.push(c);
        where.set(c, item as Node);
      }
      ranges.set(node, list);
    }
  }
  // one owner per address
  const all = [...ranges].flatMap(([node, list]) => list.map((c) => ({ node, c })));
  for (let i = 0; i < all.length; i++) {
    for (let j = i + 1; j < all.length; j++) {
      const a = all[i];
      const b = all[j];
      if (a.node === b.node || a.c.family !== b.c.family) continue;
      const [wide, narrow] = a.c.prefix <= b.c.prefix ? [a, b] : [b, a];
      if (cidrContains(wide.c, narrow.c.family, narrow.c.addr)) {
        r.fail(where.get(b.c) as Node, `${formatCidr(b.c)} of node ${b.node} overlaps ${formatCidr(a.c)} of node ${a.node}: an address has one owner`);
      }
    }
  }
  if (r.problems.length) throw new CpError('CONFIG', `--node-ranges: ${r.problems.length} problem(s):\n${r.problems.join('\n')}`);
  return new NodeRanges(ranges, file);
}
