// What the control plane accepts from an agent, checked before anything is
// stored: a node name and boot id that are names, alerts whose numbers are
// numbers, whose JSON is a JSON object, about this node and this rule, and
// of a bounded size. Everything an agent sends is data from a node that may
// be lying; what fails is refused and counted, never stored half-read.
import { jsonLine, needsJsonLine } from '../common/escape';
import { checkSpiffeId } from '../common/spiffe/spiffe-id';
import type { AlertRecord__Output } from '../common/proto/generated/vigil/v1/AlertRecord';
import type { SeqRange } from '../common/proto/generated/vigil/v1/SeqRange';
import type { StoredAlert } from './store';

/** Node names: a Kubernetes node name (DNS subdomain) or a host name. */
const NODE = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$/;
/** Boot ids: the kernel's UUID, with room for the spool's recovery suffix. */
const BOOT = /^[A-Za-z0-9][A-Za-z0-9._~:-]{0,127}$/;
const SHORT = 256;

export interface AlertLimits {
  /** the largest alert JSON, in bytes */
  maxAlertBytes: number;
}

export const DEFAULT_ALERT_LIMITS: AlertLimits = { maxAlertBytes: 256 << 10 };

/** Null when `node` may name a node; else why not. */
export function checkNodeName(node: string): string | null {
  return NODE.test(node) ? null : `node name ${JSON.stringify(node.slice(0, 80))} is not a host name (letters, digits, ".", "-", "_", at most 253)`;
}

export function checkBootId(id: string): string | null {
  return BOOT.test(id) ? null : `boot id ${JSON.stringify(id.slice(0, 80))} is not a boot id (letters, digits, "._~:-", at most 128)`;
}

function uint(text: string, what: string, min: number): number | string {
  if (!/^\d{1,16}$/.test(text)) return `${what} ${JSON.stringify(text.slice(0, 40))} is not a number`;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min) return `${what} ${text} is out of range`;
  return n;
}

export type AlertCheck = { ok: true; alert: StoredAlert } | { ok: false; bootId: string; sequence: number; reason: string };

/** Check one record of `node` (the Hello's boot id when the record names none). */
export function checkAlert(r: AlertRecord__Output, node: string, helloBoot: string, limits: AlertLimits = DEFAULT_ALERT_LIMITS): AlertCheck {
  const bootId = r.boot_id || helloBoot;
  const seq = uint(r.sequence, 'sequence', 1);
  // a record whose boot or sequence cannot be read cannot be refused by range either: the batch is refused
  if (typeof seq === 'string') return { ok: false, bootId, sequence: 0, reason: seq };
  const refuse = (reason: string): AlertCheck => ({ ok: false, bootId, sequence: seq, reason });
  const badBoot = checkBootId(bootId);
  if (badBoot) return { ok: false, bootId, sequence: 0, reason: badBoot };
  if (!/^\d{1,20}$/.test(r.time_unix_nano)) return refuse(`time ${JSON.stringify(r.time_unix_nano.slice(0, 40))} is not nanoseconds`);
  for (const [k, v] of [
    ['rule', r.rule],
    ['priority', r.priority],
    ['action', r.action],
    ['outcome', r.outcome],
  ] as const) {
    if (v.length > SHORT) return refuse(`${k} is longer than ${SHORT} characters`);
  }
  if (r.spiffe_id && !checkSpiffeId(r.spiffe_id).ok) return refuse(`spiffe_id ${JSON.stringify(r.spiffe_id.slice(0, 80))} is not a SPIFFE ID`);
  if (Buffer.byteLength(r.json) > limits.maxAlertBytes) return refuse(`alert JSON of ${Buffer.byteLength(r.json)} bytes is over the limit of ${limits.maxAlertBytes}`);
  let j: unknown;
  try {
    j = JSON.parse(r.json);
  } catch (err) {
    return refuse(`alert JSON does not parse: ${(err as Error).message}`);
  }
  if (typeof j !== 'object' || j === null || Array.isArray(j)) return refuse('alert JSON is not an object');
  const o = j as { node?: unknown; rule?: unknown };
  // an agent speaks for its own node only, in the JSON people read too
  if (o.node !== node) return refuse(`alert JSON names node ${JSON.stringify(String(o.node).slice(0, 80))}, not the sender ${node}`);
  if (o.rule !== r.rule) return refuse(`alert JSON names rule ${JSON.stringify(String(o.rule).slice(0, 80))}, the record ${JSON.stringify(r.rule.slice(0, 80))}`);
  return {
    ok: true,
    alert: {
      node,
      bootId,
      sequence: seq,
      timeNs: r.time_unix_nano,
      rule: r.rule,
      priority: r.priority,
      action: r.action,
      outcome: r.outcome,
      spiffeId: r.spiffe_id,
      // the same value on one line: a raw line break between tokens would forge a line wherever alerts are read as JSON lines
      json: needsJsonLine(r.json) ? jsonLine(r.json) : r.json,
    },
  };
}

/** Sequence numbers as ranges per boot (first..last, inclusive), for acks. */
export function seqRanges(list: readonly { bootId: string; sequence: number }[]): SeqRange[] {
  const byBoot = new Map<string, number[]>();
  for (const a of list) {
    const l = byBoot.get(a.bootId);
    if (l) l.push(a.sequence);
    else byBoot.set(a.bootId, [a.sequence]);
  }
  const out: SeqRange[] = [];
  for (const [boot, seqs] of byBoot) {
    seqs.sort((a, b) => a - b);
    let first = seqs[0];
    let last = seqs[0];
    for (let i = 1; i <= seqs.length; i++) {
      const s = seqs[i];
      if (s === last || s === last + 1) {
        last = s;
        continue;
      }
      out.push({ boot_id: boot, first, last });
      first = s;
      last = s;
    }
  }
  return out;
}
