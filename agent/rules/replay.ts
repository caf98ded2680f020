// `vigil rules test`: recorded events (`vigil trace --output json` lines) and
// fixture files (events with expectations) replayed through the real rules
// engine, with no kernel and no enforcement: what would fire, what an
// exception exempted, and every expectation that does not hold.
//
// A fixture (YAML or JSON, docs/rules.md "Testing rules"):
//
//   events:
//     - name: a shell in the api          # optional, names the case in messages
//       event: {kind: exec, exe: /usr/bin/dash, args: [sh], cgroup: /kubepods/x}   # a vigil trace record
//       spiffe_id: spiffe://example.org/ns/web/sa/api   # optional: the workload (else from --identities and the cgroup)
//       parent_exe: /usr/bin/node                       # optional (else from earlier exec/fork events)
//       dest_spiffe_id: ...                             # optional, connect: the destination's workload
//       exe_ctime: 2026-01-01T00:00:05Z                 # optional, exec: for drift, with workload_start
//       workload_start: 2026-01-01T00:00:00Z
//       ancestors: [/usr/bin/php, /usr/sbin/nginx]           # optional: the ancestors' executables, nearest first (else parent_exe, then the process cache)
//       parent_args: [php-fpm, -F]                      # optional (else from the process cache)
//       image: docker.io/library/nginx:1.25@sha256:...  # optional: the workload's image (else from --identities)
//       expect: {fire: [shell-in-workload], not_fire: [drift-binary-exec]}   # "*" in not_fire: no other rule
import * as fs from 'node:fs';
import { isMap, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { errorMessage, VigilError } from '../../common/errors';
import { printable } from '../../common/escape';
import { formatAt, lineCol, type SourceFile } from '../../common/source-pos';
import { rfcToNs } from '../../common/time';
import type { KernelEvent } from '../decode/events';
import { buildAlert, type Alert } from '../export/alert';
import { bitValue, bpfProgTypeNumber, familyNumber, LINK_FLAGS, namespaceBits, openFlagBits, ptraceRequestNumber, RENAME_FLAGS, sockTypeNumber, syscallNumber, type TraceRecord } from '../export/trace-record';
import { ExeFlag, ProcFlag, UserfaultfdVia } from '../kernel/abi';
import { KIND_NAMES } from '../kernel/abi';
import { ProcessCache } from '../process/process-cache';
import { cidrContains, parseIp } from '../../common/cidr';
import { parseCgroupPath } from '../workload/cgroup-path';
import type { WorkloadInfo } from '../workload/resolver';
import type { IdentitySource } from '../workload/source';
import { StaticIdentitySource } from '../workload/static-source';
import { parseImageRef, type ImageRef } from '../../common/image-ref';
import { RuleSet, type EvalContext } from './compile';
import { loadRuleFiles } from './load';

type JudgedEvent = Exclude<KernelEvent, { kind: 'cgroup' | 'fork' | 'exit' }>;

export interface ReplayOptions {
  rules: string[];
  events: string[];
  identities?: string;
}

/** One rule that would fire (or was exempted) for one event. */
export interface ReplayHit {
  /** file:line of the event */
  at: string;
  case: string | null;
  rule: string;
  action: string;
  /** the exception that exempted it, or null: it fires */
  exempted_by: string | null;
  alert: Alert;
}

export interface ReplayReport {
  events: number;
  hits: ReplayHit[];
  expectations: number;
  /** each failed expectation, "file:line: case "x": ..." */
  failures: string[];
}

interface Expect {
  fire: string[];
  notFire: string[];
  at: number;
}

/** One event to judge, with what the fixture adds. */
interface Item {
  file: SourceFile;
  offset: number;
  name: string | null;
  record: Record<string, unknown>;
  spiffeId?: string | null;
  parentExe?: string;
  destSpiffeId?: string | null;
  exeCtimeNs?: bigint;
  workloadStartNs?: bigint;
  ancestors?: string[];
  parentArgs?: string[];
  image?: ImageRef | null;
  expect?: Expect;
}

const CASE_KEYS = ['name', 'event', 'spiffe_id', 'parent_exe', 'dest_spiffe_id', 'exe_ctime', 'workload_start', 'ancestors', 'parent_args', 'image', 'expect'];

function fail(file: SourceFile, offset: number, msg: string): never {
  throw new VigilError('EVENTS', formatAt(file, offset, msg));
}

/** A file of `vigil trace --output json` lines: every non-empty line a JSON object. */
function traceLines(file: SourceFile): Item[] | null {
  const items: Item[] = [];
  let offset = 0;
  for (const line of file.text.split('\n')) {
    const here = offset;
    offset += line.length + 1;
    if (line.trim() === '') continue;
    if (!line.trimStart().startsWith('{')) return null;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (err) {
      if (items.length === 0) return null; // not JSON lines: a YAML fixture, maybe
      fail(file, here, `not a JSON object: ${errorMessage(err)}`);
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(file, here, 'expected a JSON object (a vigil trace --output json line)');
    items.push({ file, offset: here, name: null, record: v as Record<string, unknown> });
  }
  return items;
}

function strings(file: SourceFile, node: Node | undefined, v: unknown, what: string): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) fail(file, offsetOf(node), `${what}: expected a list of rule names`);
  return v as string[];
}

function stringList(file: SourceFile, node: Node | undefined, v: unknown, what: string, of: string): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) fail(file, offsetOf(node), `${what}: expected a list of ${of}`);
  return v as string[];
}

function offsetOf(node: Node | null | undefined): number {
  return node?.range?.[0] ?? 0;
}

function time(file: SourceFile, node: Node | undefined, v: unknown, what: string): bigint {
  if (typeof v !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/.test(v)) fail(file, offsetOf(node), `${what}: expected an RFC 3339 UTC time (2026-01-01T00:00:00.5Z)`);
  return BigInt(rfcToNs(v));
}

/** A fixture: {events: [{event, expect, ...}]}, YAML or JSON. */
function fixture(file: SourceFile): Item[] {
  const doc = parseDocument(file.text, { lineCounter: new LineCounter(), uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length) fail(file, doc.errors[0].pos[0], `neither vigil trace JSON lines nor a fixture: malformed YAML: ${doc.errors[0].message.split('\n')[0]}`);
  const root = doc.contents;
  if (!isMap(root)) fail(file, 0, 'a fixture is a map with an "events" list (or give vigil trace --output json lines)');
  for (const p of root.items) {
    const k = String((p.key as { value?: unknown }).value);
    if (k !== 'events') fail(file, offsetOf(p.key as Node), `unknown key "${k}" (a fixture has "events")`);
  }
  const events = root.get('events', true) as Node | undefined;
  if (!isSeq(events)) fail(file, offsetOf(events ?? root), 'events: expected a list');
  return events.items.map((n, i): Item => {
    const where = `events[${i}]`;
    if (!isMap(n)) fail(file, offsetOf(n as Node), `${where}: expected a map with event and expect`);
    const node = (k: string): Node | undefined => n.get(k, true) as Node | undefined;
    for (const p of n.items) {
      const k = String((p.key as { value?: unknown }).value);
      if (!CASE_KEYS.includes(k)) fail(file, offsetOf(p.key as Node), `${where}: unknown key "${k}" (expected ${CASE_KEYS.join(', ')})`);
    }
    const v = n.toJSON() as Record<string, unknown>;
    const rec = v.event;
    if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) fail(file, offsetOf(node('event') ?? (n as Node)), `${where}.event: expected a map (a vigil trace record)`);
    const item: Item = { file, offset: offsetOf(n as Node), name: typeof v.name === 'string' ? v.name : null, record: rec as Record<string, unknown> };
    if (v.name !== undefined && typeof v.name !== 'string') fail(file, offsetOf(node('name')), `${where}.name: expected a string`);
    if (v.spiffe_id !== undefined) item.spiffeId = v.spiffe_id === null ? null : String(v.spiffe_id);
    if (v.dest_spiffe_id !== undefined) item.destSpiffeId = v.dest_spiffe_id === null ? null : String(v.dest_spiffe_id);
    if (v.parent_exe !== undefined) item.parentExe = String(v.parent_exe);
    if (v.exe_ctime !== undefined) item.exeCtimeNs = time(file, node('exe_ctime'), v.exe_ctime, `${where}.exe_ctime`);
    if (v.workload_start !== undefined) item.workloadStartNs = time(file, node('workload_start'), v.workload_start, `${where}.workload_start`);
    if (v.ancestors !== undefined) item.ancestors = stringList(file, node('ancestors'), v.ancestors, `${where}.ancestors`, 'executables');
    if (v.parent_args !== undefined) item.parentArgs = stringList(file, node('parent_args'), v.parent_args, `${where}.parent_args`, 'arguments');
    if (v.image !== undefined) {
      const r = v.image === null ? null : typeof v.image === 'string' ? parseImageRef(v.image) : { error: 'expected an image reference (name[:tag][@sha256:...]) or null' };
      if (r !== null && 'error' in r) fail(file, offsetOf(node('image')), `${where}.image: ${r.error}`);
      item.image = r;
    }
    if (v.expect !== undefined) {
      const e = v.expect as Record<string, unknown>;
      const en = node('expect');
      if (typeof e !== 'object' || e === null || Array.isArray(e) || Object.keys(e).some((k) => k !== 'fire' && k !== 'not_fire')) {
        fail(file, offsetOf(en), `${where}.expect: expected {fire: [rules], not_fire: [rules]}`);
      }
      const sub = (k: string): Node | undefined => (isMap(en) ? (en.get(k, true) as Node | undefined) : undefined);
      item.expect = {
        fire: e.fire === undefined ? [] : strings(file, sub('fire'), e.fire, `${where}.expect.fire`),
        notFire: e.not_fire === undefined ? [] : strings(file, sub('not_fire'), e.not_fire, `${where}.expect.not_fire`),
        at: offsetOf(en),
      };
    }
    return item;
  });
}

const num = (v: unknown, dflt = 0): number => (typeof v === 'number' && Number.isFinite(v) ? v : dflt);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** exec's fileless, memfd, via_loader and writable_layer (trace-record.ts) back into abi.ExeFlag */
function exeFlagsOf(r: Record<string, unknown>): number {
  return (
    (r.fileless === true ? ExeFlag.FILELESS : 0) |
    (r.memfd === true ? ExeFlag.MEMFD : 0) |
    (r.via_loader === true ? ExeFlag.LOADED : 0) |
    (r.writable_layer === true ? ExeFlag.UPPER : 0)
  );
}

/** A trace record back into the event the rules look at (no enforcement flags: nothing is carried out). */
function toEvent(it: Item, kind: string): KernelEvent {
  const r = it.record;
  const d = (typeof r.details === 'object' && r.details !== null ? r.details : {}) as Record<string, unknown>;
  const pid = num(r.pid);
  const procFlags = r.tty === true ? ProcFlag.TTY : 0;
  const common = { flags: 0, ktimeNs: 0n, pid, tid: num(d.tid, pid), uid: num(r.uid), gid: num(d.gid), cgroupId: num(r.cgroup_id), comm: str(r.comm), workload: 0, procFlags };
  const family = typeof r.family === 'string' ? Math.max(familyNumber(r.family), 0) : 0;
  const sockType = typeof r.type === 'string' ? Math.max(sockTypeNumber(r.type), 0) : 0;
  const octal = (v: unknown): number => (typeof v === 'string' && /^0?[0-7]{1,6}$/.test(v) ? parseInt(v, 8) : 0);
  const ret = num(d.ret);
  const syscallNr = typeof d.syscall === 'string' ? syscallNumber(d.syscall) : num(d.syscall);
  switch (kind) {
    case 'exec':
      return { ...common, kind, ppid: num(r.ppid), exe: str(r.exe), args: strs(r.args), argc: strs(r.args).length, startNs: 0n, exeIno: 0n, exeDev: 0, exeCtimeNs: it.exeCtimeNs ?? 0n, cwd: typeof r.cwd === 'string' ? r.cwd : null, rule: 0, exeFlags: exeFlagsOf(r) };
    case 'fork':
      return { ...common, kind, childPid: num(r.target_pid), childStartNs: 0n };
    case 'exit':
      return { ...common, kind, status: 0, startNs: 0n };
    case 'open':
    case 'unlink':
    case 'rename':
    case 'chmod':
    case 'link':
    case 'symlink':
      return {
        ...common,
        kind,
        ret,
        openFlags:
          kind === 'open' ? openFlagBits(strs(r.flags)) : kind === 'rename' ? bitValue(strs(r.flags), RENAME_FLAGS) : kind === 'link' ? bitValue(strs(r.flags), LINK_FLAGS) : 0,
        mode: octal(r.mode),
        umask: kind === 'open' ? octal(r.umask) : 0,
        path: str(r.path),
        newPath: str(r.new_path),
        syscallNr,
        rule: 0,
      };
    case 'connect':
      return { ...common, kind, family: r.family === 'AF_INET6' ? 10 : 2, dport: num(r.dport), sockType: typeof d.sock_type === 'string' ? Math.max(sockTypeNumber(d.sock_type), 0) : num(d.sock_type, 1), protocol: num(d.protocol, 6), daddr: str(r.daddr), rule: 0 };
    case 'ptrace':
      return { ...common, kind, ret, syscallNr, arg: [typeof r.request === 'string' ? ptraceRequestNumber(r.request) >>> 0 : 0, num(r.target_pid), 0, 0], rule: 0 };
    case 'socket':
      return { ...common, kind, family, sockType, protocol: num(r.protocol), ret: r.refused === true ? -1 : ret, rule: 0 };
    case 'chown':
    case 'setxattr':
      return {
        ...common,
        kind,
        ret,
        syscallNr,
        ownerUid: typeof r.owner_uid === 'number' ? r.owner_uid : 0xffffffff,
        ownerGid: typeof r.owner_gid === 'number' ? r.owner_gid : 0xffffffff,
        attrFlags: 0,
        path: str(r.path),
        name: str(r.name),
        valueLen: num(r.size),
        rule: 0,
      };
    case 'namespace': {
      const nr = typeof r.call === 'string' ? syscallNumber(r.call) : syscallNr;
      const nsType = typeof r.ns_type === 'string' ? namespaceBits([r.ns_type]) : 0;
      return { ...common, kind, ret, syscallNr: nr, arg: [namespaceBits(strs(r.namespaces)), nsType, num(r.target_pid), num(r.ns_inode)], rule: 0 };
    }
    case 'bind':
    case 'listen':
    case 'dup':
      return {
        ...common,
        kind,
        ret: kind === 'dup' ? num(r.new_fd) : ret,
        syscallNr,
        fd: num(r.fd),
        family,
        sockType,
        protocol: num(r.protocol),
        addr: str(kind === 'dup' ? r.daddr : r.laddr),
        port: num(kind === 'dup' ? r.dport : r.lport),
        backlog: num(r.backlog),
        rule: 0,
      };
    case 'memfd':
      return { ...common, kind, ret, memfdFlags: 0, name: str(r.name), rule: 0 };
    case 'userfaultfd':
      return { ...common, kind, ret, syscallNr, arg: [0, r.via === '/dev/userfaultfd' ? UserfaultfdVia.DEV : UserfaultfdVia.SYSCALL, 0, 0], rule: 0 };
    case 'bpf':
      return { ...common, kind, ret, cmd: 5, progType: typeof r.prog_type === 'string' ? Math.max(bpfProgTypeNumber(r.prog_type), 0) : 0, attachType: num(d.attach_type), insnCnt: num(d.insn_cnt), progName: str(r.prog_name), rule: 0 };
    case 'migrate':
      return { ...common, kind, toCgroupId: num(r.to_cgroup_id), toPath: typeof r.to_cgroup === 'string' ? r.to_cgroup : null, fromCgroupId: num(r.from_cgroup_id), writerPid: num(r.writer_pid, pid), threadgroup: d.threadgroup !== false, rule: 0 };
    case 'setuid': {
      const ids = Array.isArray(d.ids) ? d.ids.map((x) => num(x)) : [];
      const a = [...ids, 0xffffffff, 0xffffffff, 0xffffffff];
      return { ...common, kind, ret, syscallNr, arg: [a[0], a[1], a[2], 0], rule: 0 };
    }
    case 'mount':
      return { ...common, kind, ret, syscallNr, sysFlags: 0, str1: str(r.source ?? d.source), str2: str(r.path), str3: str(r.fstype ?? d.fstype), rule: 0 };
    case 'io_uring':
      return { ...common, kind, opcode: 0, opClass: r.op_class === 'network' ? 2 : 1, family, sockType, path: typeof r.path === 'string' ? r.path : null, newPath: typeof r.new_path === 'string' ? r.new_path : null, pathFull: false, rule: 0 };
    default: // module
      return { ...common, kind: 'module', ret, syscallNr, sysFlags: 0, str1: str(r.path), str2: str(d.params), str3: '', rule: 0 };
  }
}

/** Replay every event file against the rules; throws on unreadable or malformed input (nothing judged). */
export function replay(o: ReplayOptions): ReplayReport {
  const rules = new RuleSet(loadRuleFiles(o.rules));
  const known = new Set(rules.spec.rules.map((r) => r.name));
  const source = o.identities ? StaticIdentitySource.load(o.identities) : StaticIdentitySource.empty();
  // the workload resolver's questions, asked of the identities file alone: no cgroup file system is read (paths come from the records)
  const identity = recordedIdentity(source);
  const items: Item[] = [];
  for (const name of o.events) {
    let text: string;
    try {
      text = fs.readFileSync(name, 'utf8');
    } catch (err) {
      throw new VigilError('EVENTS', `${name}: cannot read: ${errorMessage(err)}`);
    }
    const file = { name, text };
    items.push(...(traceLines(file) ?? fixture(file)));
  }
  const processes = new ProcessCache('replay', 65536, 4096);
  const report: ReplayReport = { events: 0, hits: [], expectations: 0, failures: [] };
  for (const it of items) {
    const at = `${it.file.name}:${lineCol(it.file.text, it.offset).line}`;
    const who = `${at}${it.name ? `: "${it.name}"` : ''}`;
    const kind = it.record.kind;
    if (typeof kind !== 'string' || !(KIND_NAMES as readonly string[]).includes(kind)) {
      fail(it.file, it.offset, `event: kind must be one of ${KIND_NAMES.join(', ')}, got ${JSON.stringify(kind)}`);
    }
    for (const r of [...(it.expect?.fire ?? []), ...(it.expect?.notFire ?? [])]) {
      if (r !== '*' && !known.has(r)) fail(it.file, it.expect?.at ?? it.offset, `expect names rule "${r}", which the rules given do not define`);
    }
    const ev = toEvent(it, kind);
    report.events++;
    const fired: string[] = [];
    if (ev.kind === 'fork' || ev.kind === 'exit' || ev.kind === 'cgroup') {
      processes.observe(ev);
    } else {
      if (ev.kind === 'exec') processes.observe(ev);
      // the agent's pipeline judges set*id calls only when they changed an id (agent/pipeline.ts)
      const judged = ev.kind !== 'setuid' || processes.setidChanged(ev);
      if (judged) fired.push(...judge(it, ev, at, processes, identity, rules, report));
    }
    if (it.expect) {
      const e = it.expect;
      report.expectations += e.fire.length + e.notFire.length;
      for (const r of e.fire) {
        if (!fired.includes(r)) report.failures.push(`${who}: expected rule ${r} to fire; ${fired.length ? `fired: ${fired.join(', ')}` : 'no rule fired'}`);
      }
      for (const r of e.notFire) {
        const wrong = r === '*' ? fired.filter((f) => !e.fire.includes(f)) : fired.filter((f) => f === r);
        for (const f of wrong) report.failures.push(`${who}: expected rule ${f} not to fire; it fired`);
      }
    }
  }
  return report;
}

interface RecordedIdentity {
  forPath(cgroupId: number, path: string): WorkloadInfo;
  forAddress(addr: string): string | null;
}

/** What agent/workload/resolver.ts answers, from the identities file and the recorded cgroup path only. */
function recordedIdentity(source: IdentitySource): RecordedIdentity {
  return {
    forPath: (cgroupId, path) => {
      const facts = { ...parseCgroupPath(path), path };
      return { spiffeId: source.spiffeIdFor(facts), cgroupId, cgroup: path, containerId: facts.containerId, podUid: facts.podUid, kubernetes: null, image: source.imageFor?.(facts) ?? null };
    },
    forAddress: (addr) => {
      const ip = parseIp(addr);
      let found: string | null = null;
      let best = -1;
      for (const a of ip ? source.addresses() : []) {
        if (ip && a.cidr.prefix > best && cidrContains(a.cidr, ip.family, ip.addr)) {
          best = a.cidr.prefix;
          found = a.spiffeId;
        }
      }
      return found;
    },
  };
}

function judge(it: Item, ev: JudgedEvent, at: string, processes: ProcessCache, identity: RecordedIdentity, rules: RuleSet, report: ReplayReport): string[] {
  const r = it.record;
  const cgroup = typeof r.cgroup === 'string' ? r.cgroup : null;
  let workload: WorkloadInfo =
    cgroup !== null ? identity.forPath(ev.cgroupId, cgroup) : { spiffeId: null, cgroupId: ev.cgroupId, cgroup: null, containerId: null, podUid: null, kubernetes: null, image: null };
  if (it.spiffeId !== undefined) workload = { ...workload, spiffeId: it.spiffeId };
  if (it.image !== undefined) workload = { ...workload, image: it.image };
  const proc = processes.get(ev.pid);
  const ppid = ev.kind === 'exec' ? ev.ppid : typeof r.ppid === 'number' ? r.ppid : (proc?.ppid ?? null);
  const exe = ev.kind === 'exec' ? ev.exe : typeof r.exe === 'string' ? r.exe : (proc?.exe ?? null);
  const args = ev.kind === 'exec' ? ev.args : Array.isArray(r.args) ? strs(r.args) : (proc?.args ?? null);
  const parent = ppid !== null ? processes.get(ppid) : undefined;
  const parentExe = it.parentExe ?? parent?.exe ?? null;
  // a fixture's ancestors, else its parent_exe, else the lineage the recorded exec and fork events gave
  const ancestors = (): readonly string[] =>
    it.ancestors ?? (it.parentExe !== undefined ? [it.parentExe] : processes.ancestors(ev.pid).map((p) => p.exe));
  const ctx: EvalContext = {
    ev,
    exe,
    args,
    parentExe,
    spiffeId: workload.spiffeId,
    destSpiffeId: ev.kind === 'connect' ? (it.destSpiffeId !== undefined ? it.destSpiffeId : identity.forAddress(ev.daddr)) : null,
    workloadStartNs: it.workloadStartNs ?? null,
    name: typeof r.comm === 'string' ? r.comm : (proc?.comm ?? null),
    parentArgs: it.parentArgs ?? parent?.args ?? null,
    ancestors,
    image: workload.image,
  };
  const fired: string[] = [];
  for (const m of rules.evaluate(ctx)) {
    const process: Alert['process'] = { pid: ev.pid, ppid, exe, args: args ? [...args] : null, uid: ev.uid, exec_id: null, parent_exe: parentExe };
    const alert = buildAlert(m.rule, { outcome: 'alerted' }, 'replay', workload, process, r as TraceRecord);
    report.hits.push({ at, case: it.name, rule: m.rule.name, action: m.rule.action, exempted_by: m.exemptedBy, alert });
    if (!m.exemptedBy) fired.push(m.rule.name);
  }
  return fired;
}

/** The report as people read it: one line per rule that would fire, the failed expectations, a summary. */
export function replayText(rep: ReplayReport): string {
  const lines: string[] = [];
  // what the events say came from workloads and files: shown escaped
  for (const h of rep.hits) {
    const what = printable(h.alert.output.replace(/: alert$/, ''));
    lines.push(h.exempted_by ? `${h.at}: exempted from ${h.rule} by ${h.exempted_by}: ${what}` : `${h.at}: ${h.action === 'alert' ? 'alert' : `would ${h.action}`}: ${what}`);
  }
  for (const f of rep.failures) lines.push(`FAILED ${printable(f)}`);
  const fired = rep.hits.filter((h) => !h.exempted_by).length;
  lines.push(
    `vigil rules test: ${rep.events} events, ${fired} alerts, ${rep.hits.length - fired} exempted; ${rep.expectations} expectations, ${rep.failures.length} failed`,
  );
  return lines.join('\n') + '\n';
}
