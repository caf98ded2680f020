// The `match:` (and exceptions') conditions of a rule, read and checked:
// binaries and paths, workloads, destinations, flags, uids, drift, fileless,
// writable_layer. Each
// problem is reported with its file:line:col through the rules reader.
import { isMap, isSeq, type Node } from 'yaml';
import { errorMessage } from '../../common/errors';
import { checkSpiffeId, compileSpiffePattern } from '../../common/spiffe/spiffe-id';
import { parseCidr } from '../../common/cidr';
import { keyOf } from '../../common/yaml-reader';
import { globError } from './glob';
import { normalizeImageName, parseImageRef } from '../../common/image-ref';
import { AF_NAMES, CLONE_NEW_NAMES, PTRACE_REQUEST_NAMES, SOCK_TYPE_NAMES, uapiNumber } from '../kernel/abi';
import { ACCESS, ARGS_KEYS, MODE_BITS, type ModeBit, type ModeMatch, type NameSetMatch, KEYS_FOR_KIND, MATCH_KEYS, type Access, type ArgsMatch, type DestinationMatch, type MatchSpec, type RuleKind, type StringMatch, type UidMatch } from './spec';
import type { RulesReader } from './rules-reader';

/** What a string condition compares: paths (absolute), process names (comm), image names, image digests. */
type StringKind = 'path' | 'binary' | 'name' | 'image' | 'digest' | 'text';

/** Why a value of an exact list (in, not_in) or a prefix can never match, or null. */
function valueError(kind: StringKind, k: keyof StringMatch, v: string): string | null {
  if ((kind === 'path' || kind === 'binary') && !v.startsWith('/') && k !== 'glob') return `"${v}" is not an absolute path`;
  if (kind === 'name' && (k === 'in' || k === 'not_in')) {
    if (v.includes('/')) return `"${v}" is not a process name (a name has no "/": match a path with binary)`;
    // the kernel keeps 15 bytes of a name (TASK_COMM_LEN): a longer one never matches
    if (Buffer.byteLength(v) > 15) return `"${v}" is longer than 15 bytes, the most the kernel keeps of a process name: write "${Buffer.from(v).subarray(0, 15).toString()}"`;
    if (v === '') return 'empty process name';
  }
  if (kind === 'image' && (k === 'in' || k === 'not_in')) {
    const r = parseImageRef(v);
    if ('error' in r || r.name === null || r.tag !== null || r.digest !== null) return `"${v}" is not an image name (registry and repository, without tag or digest: match digests with image_digest)`;
  }
  if (kind === 'digest' && (k === 'in' || k === 'not_in') && !/^sha256:[0-9a-f]{64}$/.test(v)) return `"${v}" is not an image digest (sha256: and 64 lowercase hex digits)`;
  return null;
}

function stringMatch(ctx: RulesReader, node: unknown, what: string, kind: StringKind): StringMatch | undefined {
  const pairs = ctx.somePairs(node, what, ['in', 'not_in', 'prefix', 'glob'], 'at least one of in, not_in, prefix, glob');
  if (!pairs) return undefined;
  const m: StringMatch = {};
  let ok = true;
  for (const p of pairs) {
    const k = keyOf(p) as keyof StringMatch;
    const vals = ctx.strings(p.value, `${what}.${k}`);
    if (!vals) {
      ok = false;
      continue;
    }
    for (const v of vals) {
      const e = valueError(kind, k, v);
      if (e) {
        ctx.fail(p.value as Node, `${what}.${k}: ${e}`);
        ok = false;
      }
      if (k === 'glob') {
        const e = globError(v);
        if (e) {
          ctx.fail(p.value as Node, `${what}.glob: ${e}`);
          ok = false;
        }
      }
    }
    // image names are compared in full (docker.io/library/nginx), however the rule spells them
    m[k] = kind === 'image' && (k === 'in' || k === 'not_in') ? vals.map(normalizeImageName) : vals;
  }
  return ok ? m : undefined;
}

/** args, parent_args: {contains, icontains, prefix}, at least one. */
function argsMatch(ctx: RulesReader, node: unknown, what: string): ArgsMatch | undefined {
  const pairs = ctx.somePairs(node, what, ARGS_KEYS, `at least one of ${ARGS_KEYS.join(', ')}`);
  if (!pairs) return undefined;
  const m: ArgsMatch = {};
  let ok = true;
  for (const p of pairs) {
    const k = keyOf(p) as keyof ArgsMatch;
    const vals = ctx.strings(p.value, `${what}.${k}`);
    if (!vals) {
      ok = false;
      continue;
    }
    if (vals.includes('')) {
      ctx.fail(p.value as Node, `${what}.${k}: an empty string matches every argument`);
      ok = false;
      continue;
    }
    m[k] = vals;
  }
  return ok ? m : undefined;
}

export function workloadPatterns(ctx: RulesReader, node: unknown, what: string, allowHost: boolean): string[] | undefined {
  const items = isSeq(node) ? node.items : [node];
  if (isSeq(node) && node.items.length === 0) {
    ctx.fail(node, `${what}: empty list`);
    return undefined;
  }
  const out: string[] = [];
  let ok = true;
  for (const it of items) {
    const s = ctx.str(it, what);
    if (s === undefined) {
      ok = false;
      continue;
    }
    if (allowHost && s === 'host') {
      out.push(s);
      continue;
    }
    try {
      compileSpiffePattern(s);
      out.push(s);
    } catch (err) {
      const check = checkSpiffeId(s);
      const reason = errorMessage(err);
      ctx.fail(it as Node, `${what}: ${check.ok ? reason : reason.replace(/^invalid SPIFFE ID /, 'invalid SPIFFE ID ')}`);
      ok = false;
    }
  }
  return ok ? out : undefined;
}

/** A value, a list of them, or {in, not_in}, each list read by `list`. */
function inNotIn<T>(ctx: RulesReader, node: unknown, sub: string, list: (n: unknown, what: string) => T[] | undefined): { in?: T[]; not_in?: T[] } | undefined {
  if (!isMap(node)) {
    const vals = list(node, sub);
    return vals ? { in: vals } : undefined;
  }
  const pairs = ctx.somePairs(node, sub, ['in', 'not_in'], 'in and/or not_in');
  if (!pairs) return undefined;
  const m: { in?: T[]; not_in?: T[] } = {};
  for (const x of pairs) {
    const vals = list(x.value, `${sub}.${keyOf(x)}`);
    if (!vals) return undefined;
    m[keyOf(x) as 'in' | 'not_in'] = vals;
  }
  return m;
}

/** A number, a list of them, or {in, not_in} (uid, port). */
function intSet(ctx: RulesReader, node: unknown, sub: string, min: number, max: number): UidMatch | undefined {
  return inNotIn(ctx, node, sub, (n, what) => ctx.ints(n, what, min, max));
}

/** The kernel names a condition takes, with the prefix of a name by number (AF_42). */
const NAME_SETS: Record<'family' | 'type' | 'request', { table: Readonly<Record<number, string>>; prefix: string }> = {
  family: { table: AF_NAMES, prefix: 'AF_' },
  type: { table: SOCK_TYPE_NAMES, prefix: 'SOCK_' },
  request: { table: PTRACE_REQUEST_NAMES, prefix: 'PTRACE_' },
};

/** family, type, request: a list of names (one of them), or {in, not_in}. */
function nameSet(ctx: RulesReader, node: unknown, sub: string, which: keyof typeof NAME_SETS): NameSetMatch | undefined {
  const { table, prefix } = NAME_SETS[which];
  const check = (n: unknown, what: string): string[] | undefined => {
    const vals = ctx.strings(n, what);
    if (!vals) return undefined;
    const bad = vals.find((v) => uapiNumber(table, prefix, v) < 0);
    if (bad !== undefined) {
      ctx.fail(n as Node, `${what}: unknown ${which} "${bad}" (expected one of ${Object.values(table).join(', ')}, or ${prefix}<number>)`);
      return undefined;
    }
    return vals;
  };
  return inNotIn(ctx, node, sub, check);
}

/** {key: [names]} where every name is one of `names` (mode: any/all; namespaces: any). */
function namedBits(ctx: RulesReader, node: unknown, sub: string, keys: readonly string[], names: readonly string[], what: string): Record<string, string[]> | undefined {
  const pairs = ctx.somePairs(node, sub, keys, `${keys.map((k) => `${k}: [...]`).join(' and/or ')} (${names.join(', ')})`);
  if (!pairs) return undefined;
  const out: Record<string, string[]> = {};
  for (const x of pairs) {
    const vals = ctx.strings(x.value, `${sub}.${keyOf(x)}`);
    if (!vals) return undefined;
    const bad = vals.find((v) => !names.includes(v));
    if (bad !== undefined) {
      ctx.fail(x.value as Node, `${sub}.${keyOf(x)}: unknown ${what} "${bad}" (expected ${names.join(', ')})`);
      return undefined;
    }
    out[keyOf(x)] = vals;
  }
  return out;
}

export function matchSpec(ctx: RulesReader, node: unknown, what: string, kind: RuleKind): MatchSpec | undefined {
  const pairs = ctx.mapPairs(node, what, MATCH_KEYS);
  if (!pairs) return undefined;
  const m: MatchSpec = {};
  let ok = true;
  for (const p of pairs) {
    const k = keyOf(p) as keyof MatchSpec;
    if (!KEYS_FOR_KIND[kind].includes(k)) {
      ctx.fail(p.key as Node, `${what}.${k} does not apply to ${kind} events (${kind} rules can match ${KEYS_FOR_KIND[kind].join(', ')})`);
      ok = false;
      continue;
    }
    const sub = `${what}.${k}`;
    switch (k) {
      case 'binary':
      case 'parent_binary':
      case 'path':
      case 'new_path':
      case 'name':
      case 'image':
      case 'image_digest': {
        const sk: StringKind = k === 'binary' || k === 'parent_binary' ? 'binary' : k === 'name' ? 'name' : k === 'image' ? 'image' : k === 'image_digest' ? 'digest' : 'path';
        const v = stringMatch(ctx, p.value, sub, sk);
        if (v) m[k] = v;
        else ok = false;
        break;
      }
      case 'ancestor_binary': {
        const v = stringMatch(ctx, p.value, sub, 'binary');
        // "some ancestor is not X" holds for nearly every process: say "no ancestor is X" with an exception
        if (v && !v.in && !v.prefix && !v.glob) {
          ctx.fail(p.value as Node, `${sub}: expected in, prefix or glob (some ancestor is one of them); for "no ancestor is X" put ancestor_binary: {in: [X]} in an exception`);
          ok = false;
        } else if (v) m.ancestor_binary = v;
        else ok = false;
        break;
      }
      case 'args':
      case 'parent_args': {
        const v = argsMatch(ctx, p.value, sub);
        if (v) m[k] = v;
        else ok = false;
        break;
      }
      case 'flags': {
        const fp = ctx.mapPairs(p.value, sub, ['any']);
        const anyPair = fp?.find((x) => keyOf(x) === 'any');
        if (!fp || !anyPair) {
          if (fp) ctx.fail(p.value as Node, `${sub}: expected {any: [${ACCESS.join(', ')}]}`);
          ok = false;
          break;
        }
        const vals = ctx.strings(anyPair.value, `${sub}.any`);
        if (!vals) {
          ok = false;
          break;
        }
        const bad = vals.find((v) => !(ACCESS as readonly string[]).includes(v));
        if (bad !== undefined) {
          ctx.fail(anyPair.value as Node, `${sub}.any: unknown access "${bad}" (expected ${ACCESS.join(', ')})`);
          ok = false;
          break;
        }
        m.flags = { any: vals as Access[] };
        break;
      }
      case 'uid': {
        const u = intSet(ctx, p.value, sub, 0, 0xffffffff);
        if (u) m.uid = u;
        else ok = false;
        break;
      }
      case 'port': {
        const u = intSet(ctx, p.value, sub, 0, 65535);
        if (u) m.port = u;
        else ok = false;
        break;
      }
      case 'tty': {
        const v = ctx.bool(p.value, sub);
        if (v === undefined) ok = false;
        else m.tty = v;
        break;
      }
      case 'cwd':
      case 'fstype':
      case 'source':
      case 'attribute': {
        const v = stringMatch(ctx, p.value, sub, k === 'cwd' ? 'path' : 'text');
        if (v) m[k] = v;
        else ok = false;
        break;
      }
      case 'family':
      case 'type':
      case 'request': {
        const v = nameSet(ctx, p.value, sub, k);
        if (v) m[k] = v;
        else ok = false;
        break;
      }
      case 'mode': {
        const v = namedBits(ctx, p.value, sub, ['any', 'all'], MODE_BITS, 'mode bit');
        if (v) m.mode = v as ModeMatch & Record<string, ModeBit[]>;
        else ok = false;
        break;
      }
      case 'namespaces': {
        const v = namedBits(ctx, p.value, sub, ['any'], CLONE_NEW_NAMES.map(([, n]) => n), 'namespace');
        if (v) m.namespaces = { any: v.any };
        else ok = false;
        break;
      }
      case 'drift': {
        const v = ctx.bool(p.value, sub);
        if (v === undefined) ok = false;
        else m.drift = v;
        break;
      }
      case 'fileless': {
        const v = ctx.bool(p.value, sub);
        if (v === undefined) ok = false;
        else m.fileless = v;
        break;
      }
      case 'writable_layer': {
        const v = ctx.bool(p.value, sub);
        if (v === undefined) ok = false;
        else m.writable_layer = v;
        break;
      }
      case 'destination': {
        const dp = ctx.somePairs(p.value, sub, ['cidr', 'not_cidr', 'port', 'workload', 'not_workload'], 'at least one of cidr, not_cidr, port, workload, not_workload');
        if (!dp) {
          ok = false;
          break;
        }
        const d: DestinationMatch = {};
        for (const x of dp) {
          const dk = keyOf(x) as keyof DestinationMatch;
          if (dk === 'port') {
            const vals = ctx.ints(x.value, `${sub}.port`, 1, 65535);
            if (vals) d.port = vals;
            else ok = false;
          } else if (dk === 'cidr' || dk === 'not_cidr') {
            const vals = ctx.strings(x.value, `${sub}.${dk}`);
            if (!vals) {
              ok = false;
              continue;
            }
            const bad = vals.find((v) => parseCidr(v) === null);
            if (bad !== undefined) {
              ctx.fail(x.value as Node, `${sub}.${dk}: "${bad}" is not an IP address or CIDR block`);
              ok = false;
              continue;
            }
            d[dk] = vals;
          } else {
            const vals = workloadPatterns(ctx, x.value, `${sub}.${dk}`, false);
            if (vals) d[dk] = vals;
            else ok = false;
          }
        }
        m.destination = d;
        break;
      }
    }
  }
  return ok ? m : undefined;
}
