// The `match:` (and exceptions') conditions of a rule, read and checked:
// binaries and paths, workloads, destinations, flags, uids, drift, fileless. Each
// problem is reported with its file:line:col through the rules reader.
import { isMap, isSeq, type Node } from 'yaml';
import { errorMessage } from '../../common/errors';
import { checkSpiffeId, compileSpiffePattern } from '../../common/spiffe/spiffe-id';
import { parseCidr } from '../../common/cidr';
import { keyOf } from '../../common/yaml-reader';
import { globError } from './glob';
import { ACCESS, KEYS_FOR_KIND, MATCH_KEYS, type Access, type DestinationMatch, type MatchSpec, type RuleKind, type StringMatch, type UidMatch } from './spec';
import type { RulesReader } from './rules-reader';

function stringMatch(ctx: RulesReader, node: unknown, what: string, kind: 'path' | 'binary'): StringMatch | undefined {
  const pairs = ctx.mapPairs(node, what, ['in', 'not_in', 'prefix', 'glob']);
  if (!pairs) return undefined;
  if (pairs.length === 0) {
    ctx.fail(node as Node, `${what}: expected at least one of in, not_in, prefix, glob`);
    return undefined;
  }
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
      if ((kind === 'path' || kind === 'binary') && !v.startsWith('/') && k !== 'glob') {
        ctx.fail(p.value as Node, `${what}.${k}: "${v}" is not an absolute path`);
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
      case 'new_path': {
        const v = stringMatch(ctx, p.value, sub, k === 'binary' || k === 'parent_binary' ? 'binary' : 'path');
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
      case 'args': {
        const ap = ctx.mapPairs(p.value, sub, ['contains']);
        const c = ap?.find((x) => keyOf(x) === 'contains');
        if (!ap || !c) {
          if (ap) ctx.fail(p.value as Node, `${sub}: expected {contains: [...]}`);
          ok = false;
          break;
        }
        const vals = ctx.strings(c.value, `${sub}.contains`);
        if (vals) m.args = { contains: vals };
        else ok = false;
        break;
      }
      case 'uid': {
        let u: UidMatch | undefined;
        if (isMap(p.value)) {
          const up = ctx.mapPairs(p.value, sub, ['in', 'not_in']);
          if (up && up.length === 0) {
            ctx.fail(p.value as Node, `${sub}: expected in and/or not_in`);
          } else if (up) {
            u = {};
            for (const x of up) {
              const vals = ctx.ints(x.value, `${sub}.${keyOf(x)}`, 0, 0xffffffff);
              if (vals) u[keyOf(x) as 'in' | 'not_in'] = vals;
              else u = undefined;
              if (!u) break;
            }
          }
        } else {
          const vals = ctx.ints(p.value, sub, 0, 0xffffffff);
          if (vals) u = { in: vals };
        }
        if (u) m.uid = u;
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
      case 'destination': {
        const dp = ctx.mapPairs(p.value, sub, ['cidr', 'not_cidr', 'port', 'workload', 'not_workload']);
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
        if (dp.length === 0) {
          ctx.fail(p.value as Node, `${sub}: expected at least one of cidr, not_cidr, port, workload, not_workload`);
          ok = false;
        }
        m.destination = d;
        break;
      }
    }
  }
  return ok ? m : undefined;
}
