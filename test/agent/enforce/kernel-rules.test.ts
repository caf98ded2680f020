// Rules into the kernel, on the real kernel: each apply writes a new
// generation (1, 2, 1, ...), switches the settings to it, and deletes the
// old one; the programs attached follow the rules' kinds; a write that fails
// leaves the rules in force untouched. The maps are read back with bpftool,
// by the ids of the maps this probe created (read from /proc/self/fdinfo
// around Probe.load), so another probe loaded at the same time is never read.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { VigilError } from '../../../common/errors';
import { parseCidr, type Cidr } from '../../../common/cidr';
import { bloomBit } from '../../../agent/enforce/protected-dirs';
import { KernelRules } from '../../../agent/enforce/kernel-rules';
import type { KernelPlan, MapEntries } from '../../../agent/enforce/kernel-plan';
import { pathHash } from '../../../agent/enforce/path-hash';
import { BinKey, BinMember, BinWho, CondKey, Config, EventKind, FileKey, NetPrefixKey, NetRuleKey, RuleCond, RuleKey, RuleMatch, RuleVal, type KindName } from '../../../agent/kernel/abi';
import { resolveFileId } from '../../../agent/enforce/file-ids';
import { Probe, resolvePrograms } from '../../../agent/kernel/probe';
import { RuleSet } from '../../../agent/rules/compile';
import { loadRuleSources } from '../../../agent/rules/load';
import type { AddressIdentity } from '../../../agent/workload/source';
import { WorkloadTable } from '../../../agent/workload/workload-table';
import { CgroupSandbox, helperBinary, requireKernelTestPrivileges, type CgroupHandle } from '../../helpers/kernel';

const TD = 'spiffe://test.vigil/ns/kr';
const API = `${TD}/sa/api`;
const DB = `${TD}/sa/db`;

function rules(text: string): RuleSet {
  return new RuleSet(loadRuleSources([{ name: 'rules.yaml', text }]));
}

function cidr(s: string): Cidr {
  const c = parseCidr(s);
  assert.ok(c, s);
  return c;
}

// Every kill and deny names a workload that no cgroup is mapped to (the
// cgroups map stays empty), and the deny's destination is TEST-NET-1: nothing
// on this machine is killed or refused while the programs are attached.
const RS1 = rules(`rules:
  - name: shell-in-api
    workload: ${API}
    on: exec
    match: { binary: { in: [/usr/bin/dash, /usr/bin/bash] } }
    action: kill
  - name: ssh-keys
    workload: ${API}
    on: open
    match: { path: { prefix: [/etc/ssh/] } }
    action: kill
  - name: api-to-db
    workload: ${API}
    on: connect
    match: { destination: { workload: [${DB}], not_cidr: [192.0.2.128/25], port: [5432] } }
    action: deny
`);

const RS2 = rules(`rules:
  - name: unlink-in-tmp
    on: unlink
    match: { path: { prefix: [/tmp/vigil-kr/] } }
  - name: module-load
    workload: ${API}
    on: module
    action: kill
`);

const EMPTY = rules('rules: []\n');

const ADDRESSES: AddressIdentity[] = [{ cidr: cidr('192.0.2.0/24'), spiffeId: DB }];

/** The maps this process holds (ids), from /proc/self/fdinfo. */
function ownMapIds(): Set<number> {
  const ids = new Set<number>();
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`) !== 'anon_inode:bpf-map') continue;
      const m = /^map_id:\s+(\d+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
      if (m) ids.add(Number(m[1]));
    } catch {
      // closed meanwhile
    }
  }
  return ids;
}

function bpftool<T>(...args: string[]): T {
  return JSON.parse(execFileSync('bpftool', [...args, '-j'], { encoding: 'utf8' })) as T;
}

interface MapDumpEntry {
  key: string[];
  value: string[];
  formatted?: { key: Record<string, number>; value: unknown };
}

/** A kernel map's entries, as hex keys (sorted). */
function hexKeys(entries: MapDumpEntry[]): string[] {
  return entries.map((e) => e.key.map((b) => b.slice(2)).join('')).sort();
}

/** A plan's keys for one map, as hex (sorted). */
function planKeys(m: MapEntries, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < m.count; i++) out.push(Buffer.from(m.keys.subarray(i * size, (i + 1) * size)).toString('hex'));
  return out.sort();
}

/** The generation byte of each key. */
function gens(entries: MapDumpEntry[], offset: number): number[] {
  return [...new Set(entries.map((e) => parseInt(e.key[offset], 16)))].sort();
}

describe('kernel rules: generations, map entries and attached programs on the real kernel', function () {
  this.timeout(30000);
  let probe: Probe | undefined;
  let kr: KernelRules;
  let sb: CgroupSandbox | undefined;
  const table = new WorkloadTable();
  const maps: Record<string, number> = {};

  const dump = (name: string): MapDumpEntry[] => bpftool<MapDumpEntry[]>('map', 'dump', 'id', String(maps[name]));
  const settings = (): Buffer => Buffer.from(dump('settings')[0].value.map((b) => parseInt(b, 16)));
  const rulesGen = (): number => settings().readUInt32LE(Config.rules_gen);

  /** The six rule maps hold exactly the plan's entries, all of generation `gen`, and the settings point at it. */
  function assertInKernel(plan: KernelPlan, gen: number): void {
    for (const [name, m, size, off] of [
      ['rules', plan.rules, RuleKey.SIZE, RuleKey.gen],
      ['file_rules', plan.fileRules, FileKey.SIZE, FileKey.gen],
      ['bin_sets', plan.binSets, BinKey.SIZE, BinKey.gen],
      ['rule_conds', plan.ruleConds, CondKey.SIZE, CondKey.gen],
      ['net_rules', plan.netRules, NetRuleKey.SIZE, NetRuleKey.gen],
      ['net_prefixes', plan.netPrefixes, NetPrefixKey.SIZE, NetPrefixKey.gen],
    ] as const) {
      const entries = dump(name);
      assert.deepEqual(hexKeys(entries), planKeys(m, size), `${name} map = the plan`);
      if (entries.length) assert.deepEqual(gens(entries, off), [gen], `${name}: only generation ${gen} is left`);
    }
    assert.equal(rulesGen(), gen, 'settings.rules_gen');
  }

  before(function () {
    requireKernelTestPrivileges();
    table.index(API);
    table.index(DB);
    const known = ownMapIds();
    probe = Probe.load({ kinds: KernelRules.kindsFor(RS1), loadAll: true, manualScope: true });
    for (const id of ownMapIds()) {
      if (known.has(id)) continue;
      const info = bpftool<{ name: string }>('map', 'show', 'id', String(id));
      assert.equal(maps[info.name], undefined, `two new maps named ${info.name}`);
      maps[info.name] = id;
    }
    for (const m of ['rules', 'file_rules', 'bin_sets', 'rule_conds', 'net_rules', 'net_prefixes', 'settings']) assert.ok(maps[m], `the probe's ${m} map (found: ${Object.keys(maps).join(', ')})`);
    kr = new KernelRules(probe, table);
  });

  after(async function () {
    if (probe) await probe.close();
    if (sb) await sb.cleanup();
  });

  it('before any apply: the rule maps are empty, rules_gen is 0', () => {
    assert.deepEqual(dump('rules'), []);
    assert.deepEqual(dump('net_rules'), []);
    assert.deepEqual(dump('net_prefixes'), []);
    assert.equal(rulesGen(), 0);
  });

  it('first apply: generation 1, the entries the rules need, the programs their kinds need', () => {
    assert.ok(probe);
    const plan = kr.apply(RS1, ADDRESSES);
    assertInKernel(plan, 1);
    // what the entries are, read independently of the plan
    const r = dump('rules').map((e) => ({ ...e.formatted?.key, hex: e.key.map((b) => b.slice(2)).join('') }));
    const want = (kind: KindName, match: number, path: string): string => {
      const k = Buffer.alloc(RuleKey.SIZE);
      k.writeUInt32LE(1, RuleKey.workload);
      k.writeUInt8(EventKind[kind], RuleKey.kind);
      k.writeUInt8(match, RuleKey.match);
      k.writeUInt8(1, RuleKey.gen);
      k.writeBigUInt64LE(pathHash(path), RuleKey.hash);
      return k.toString('hex');
    };
    assert.deepEqual(
      r.map((e) => e.hex).sort(),
      [want('exec', RuleMatch.exact, '/usr/bin/dash'), want('exec', RuleMatch.exact, '/usr/bin/bash'), want('open', RuleMatch.prefix, '/etc/ssh/')].sort(),
    );
    const nr = dump('net_rules');
    assert.equal(nr.length, 1);
    assert.deepEqual(nr[0].formatted?.key, { workload: 1, slot: 0, gen: 1, pad: 0 });
    assert.deepEqual(nr[0].formatted?.value, { rule: 3, has_pos: 1, has_neg: 1, nports: 1, pad: 0, ports: [5432, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] });
    assert.deepEqual(
      dump('net_prefixes')
        .map((e) => e.formatted?.key)
        .sort((a, b) => (a?.polarity ?? 0) - (b?.polarity ?? 0)),
      [
        { prefixlen: 64 + 24, workload: 1, slot: 0, gen: 1, polarity: 1, family: 4, addr: [192, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] },
        { prefixlen: 64 + 25, workload: 1, slot: 0, gen: 1, polarity: 2, family: 4, addr: [192, 0, 2, 128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] },
      ],
    );
    assert.deepEqual(
      probe.attached().sort(),
      // vigil_migrate: with workloads, a task moved into one takes it as its origin (issue 9);
      // vigil_sock_create and vigil_io_uring: with connect refusals, the raw and packet socket guard;
      // vigil_loader: with exec rules, a program the dynamic loader maps is an exec;
      // the timestamp programs (this kernel has them): file rules, the files calls touched
      [
        'vigil_exec', 'vigil_fork', 'vigil_exit', 'vigil_sys_exit', 'vigil_connect4', 'vigil_connect6', 'vigil_sendmsg4', 'vigil_sendmsg6',
        'vigil_cgroup_mkdir', 'vigil_cgroup_rmdir', 'vigil_migrate', 'vigil_sock_create', 'vigil_io_uring', 'vigil_loader', ...resolvePrograms(),
      ].sort(),
    );
    // the shells by identity too: any other name for the same files is killed as well;
    // and the protected directory by identity (issue 9 item 7): any path that leads into it
    const fr = dump('file_rules').map((e) => Buffer.from(e.key.map((b) => parseInt(b, 16))));
    const ids = ['/usr/bin/dash', '/usr/bin/bash'].map((n) => resolveFileId(n).id);
    const sshDir = resolveFileId('/etc/ssh').id;
    assert.deepEqual(
      fr.map((k) => `${k.readUInt32LE(FileKey.workload)}/${k.readUInt8(FileKey.kind)}/${k.readUInt8(FileKey.match)}/${k.readUInt32LE(FileKey.dev)}:${k.readBigUInt64LE(FileKey.ino)}`).sort(),
      [
        ...new Set(ids.map((id) => `1/${EventKind.exec}/${RuleMatch.exact}/${id.dev}:${id.ino}`)),
        `1/${EventKind.open}/${RuleMatch.prefix}/${sshDir.dev}:${sshDir.ino}`,
      ].sort(),
    );
    for (const e of dump('file_rules')) {
      const k = Buffer.from(e.key.map((b) => parseInt(b, 16)));
      const v = Buffer.from(e.value.map((b) => parseInt(b, 16)));
      assert.equal(v.readUInt32LE(RuleVal.kill_rule), k.readUInt8(FileKey.kind) === EventKind.exec ? 1 : 2, 'shell-in-api, ssh-keys');
    }
    const s = settings();
    assert.equal(s.readUInt32LE(Config.id_kinds), 1 << EventKind.exec);
    // file events' walks look for the protected directory: on, and its inode number in the filter
    assert.equal(s.readUInt32LE(Config.dir_active), 1);
    const b = bloomBit(sshDir.ino);
    assert.ok(s.readBigUInt64LE(Config.dir_bloom + 8 * (b >> 6)) & (1n << BigInt(b & 63)), 'the filter has /etc/ssh');
    assert.equal(s.readUInt32LE(Config.loader_active), 1);
    assert.equal(s.readUInt32LE(Config.exe_state), 1);
    assert.equal(s.readUInt32LE(Config.net_active), 1);
    assert.equal(s.readUInt32LE(Config.scope_active), 1, 'every rule names its workload');
    assert.equal(s.readUInt32LE(Config.kill_kinds), (1 << EventKind.exec) | (1 << EventKind.open));
    assert.equal(s.readUInt32LE(Config.guard_only), (1 << EventKind.socket) | (1 << EventKind.io_uring), 'socket and io_uring on for the guard only');
  });

  it('second apply: generation 2 replaces 1, and only what the new rules need stays attached', () => {
    assert.ok(probe);
    const plan = kr.apply(RS2, ADDRESSES);
    assertInKernel(plan, 2);
    // unlink: reported by path for every workload (0 = host, 1, 2); module: killed by any path in api
    const r = dump('rules').map((e) => e.formatted?.key);
    assert.deepEqual(
      r.map((k) => `${k?.workload}/${k?.kind}/${k?.match}`).sort(),
      [`0/${EventKind.unlink}/${RuleMatch.prefix}`, `1/${EventKind.unlink}/${RuleMatch.prefix}`, `2/${EventKind.unlink}/${RuleMatch.prefix}`, `1/${EventKind.module}/${RuleMatch.any}`].sort(),
    );
    assert.deepEqual(dump('net_rules'), [], 'no deny rule: net_rules emptied');
    assert.deepEqual(dump('net_prefixes'), []);
    assert.deepEqual(
      probe.attached().sort(),
      ['vigil_exec', 'vigil_fork', 'vigil_exit', 'vigil_sys_exit', 'vigil_cgroup_mkdir', 'vigil_cgroup_rmdir', 'vigil_migrate', ...resolvePrograms()].sort(),
    );
    const s = settings();
    assert.equal(s.readUInt32LE(Config.resolve_active), resolvePrograms().length > 0 ? 1 : 0, 'file rules: what calls touched is recorded');
    assert.equal(s.readUInt32LE(Config.net_active), 0);
    assert.equal(s.readUInt32LE(Config.scope_active), 0, 'a rule without a workload: every process is in scope');
  });

  it('third apply: back to generation 1, generation 2 deleted', () => {
    assert.ok(probe);
    const plan = kr.apply(RS1, ADDRESSES);
    assertInKernel(plan, 1);
    assert.equal(plan.rules.count, 3);
    assert.ok(probe.attached().includes('vigil_connect4'));
  });

  it('an empty rule set: generation 2 with nothing in it, the process life cycle only', () => {
    assert.ok(probe);
    const plan = kr.apply(EMPTY, ADDRESSES);
    assertInKernel(plan, 2);
    assert.deepEqual(dump('rules'), []);
    assert.deepEqual(probe.attached().sort(), ['vigil_exec', 'vigil_fork', 'vigil_exit', 'vigil_cgroup_mkdir', 'vigil_cgroup_rmdir', 'vigil_migrate'].sort());
    assert.equal(settings().readUInt32LE(Config.kinds), (1 << EventKind.exec) | (1 << EventKind.fork) | (1 << EventKind.exit) | (1 << EventKind.cgroup));
    assert.equal(settings().readUInt32LE(Config.resolve_active), 0, 'no file rule: the timestamp programs are detached and idle');
  });

  it('a write that fails: the rules in force stay, in the maps, the settings and the programs; the next apply works', () => {
    assert.ok(probe);
    const inForce = kr.apply(RS1, ADDRESSES);
    assertInKernel(inForce, 1);
    const attached = probe.attached().sort();
    // the third of three writes fails: rules and net_rules of generation 2 were already written
    const real = probe.updateElems.bind(probe);
    probe.updateElems = (map: string, keys: Uint8Array, values: Uint8Array): void => {
      if (map === 'net_prefixes') throw new Error('injected failure');
      real(map, keys, values);
    };
    try {
      assert.throws(
        () => kr.apply(RS1, ADDRESSES),
        (err: unknown) =>
          err instanceof VigilError &&
          err.code === 'KERNEL' &&
          err.message === 'writing rules generation 2 into the kernel: injected failure (the previous rules stay in force)',
      );
    } finally {
      probe.updateElems = real;
    }
    assertInKernel(inForce, 1);
    assert.deepEqual(probe.attached().sort(), attached);
    // the failed generation is tried again, and this time it goes in
    const plan = kr.apply(RS2, ADDRESSES);
    assertInKernel(plan, 2);
  });

  it('a kill rule with binary conditions and exceptions: a slot, its tests and the sets of binaries, by path hash and identity', () => {
    assert.ok(probe);
    const gen = rulesGen() === 1 ? 2 : 1;
    const plan = kr.apply(
      rules(`rules:
  - name: shell-unless-make
    workload: ${API}
    on: exec
    match: { binary: { in: [/usr/bin/dash] }, parent_binary: { not_in: [/usr/bin/env] } }
    exceptions:
      - { name: from-make, match: { parent_binary: { in: [/usr/bin/make, /usr/bin/dash] } } }
      - { name: fileless-one, match: { fileless: true, binary: { in: [/usr/bin/dash] } } }
    action: kill
`),
      ADDRESSES,
    );
    assertInKernel(plan, gen);
    assert.deepEqual(plan.notes, []);
    const dash = resolveFileId('/usr/bin/dash').id;
    // the key: dash by path (slot 0, no kill of its own) and by identity
    const r = dump('rules');
    assert.equal(r.length, 1);
    const rv = Buffer.from(r[0].value.map((b) => parseInt(b, 16)));
    assert.deepEqual([rv.readUInt8(RuleVal.actions) & 2, rv.readUInt16LE(RuleVal.slots)], [0, 1], 'no unconditional kill; slot 0');
    const fr = dump('file_rules');
    assert.equal(fr.length, 1);
    const fk = Buffer.from(fr[0].key.map((b) => parseInt(b, 16)));
    assert.deepEqual([fk.readUInt32LE(FileKey.dev), fk.readBigUInt64LE(FileKey.ino)], [dash.dev, dash.ino]);
    // the slot: match = parent not in {env}; exceptions (parent in {make, dash}), (fileless, self in {dash})
    const rc = dump('rule_conds');
    assert.equal(rc.length, 1);
    const ck = Buffer.from(rc[0].key.map((b) => parseInt(b, 16)));
    assert.deepEqual([ck.readUInt32LE(CondKey.workload), ck.readUInt8(CondKey.kind), ck.readUInt8(CondKey.slot)], [1, EventKind.exec, 0]);
    const cv = Buffer.from(rc[0].value.map((b) => parseInt(b, 16)));
    const test = (i: number): [number, number, number] => [cv.readUInt32LE(RuleCond.match + 8 * i), cv.readUInt8(RuleCond.match + 8 * i + 4), cv.readUInt8(RuleCond.match + 8 * i + 5)];
    assert.equal(cv.readUInt32LE(RuleCond.rule), 1);
    const [envSet] = test(0);
    assert.deepEqual(test(0), [envSet, BinWho.parent, 1]);
    assert.deepEqual(test(1), [0, BinWho.none, 0]);
    const [makeSet] = test(2);
    assert.deepEqual(test(2), [makeSet, BinWho.parent, 0]);
    assert.deepEqual(test(3), [0, BinWho.none, 0]);
    assert.deepEqual(test(4), [0, BinWho.fileless, 0]);
    const [dashSet] = test(5);
    assert.deepEqual(test(5), [dashSet, BinWho.self, 0]);
    assert.deepEqual(test(6), [0, BinWho.none, 0], 'no third exception');
    // the sets: every name by path hash, and by the identity it has now
    const members = dump('bin_sets').map((e) => {
      const k = Buffer.from(e.key.map((b) => parseInt(b, 16)));
      return `${k.readUInt32LE(BinKey.set)}/${k.readUInt8(BinKey.type)}/${k.readUInt32LE(BinKey.dev)}/${k.readBigUInt64LE(BinKey.val)}`;
    });
    const want: string[] = [];
    const add = (set: number, names: string[]): void => {
      const ids = new Set<string>();
      for (const n of names) {
        want.push(`${set}/${BinMember.hash}/0/${pathHash(n)}`);
        const id = resolveFileId(n).id;
        ids.add(`${set}/${BinMember.id}/${id.dev}/${id.ino}`);
      }
      want.push(...ids);
    };
    add(envSet, ['/usr/bin/env']);
    add(makeSet, ['/usr/bin/make', '/usr/bin/dash']);
    add(dashSet, ['/usr/bin/dash']);
    assert.deepEqual(members.sort(), want.sort());
    assert.equal(new Set([envSet, makeSet, dashSet]).size, 3);
  });

  it('kindsFor: the rules\' kinds plus the process life cycle, in the kinds\' order', () => {
    assert.deepEqual(KernelRules.kindsFor(RS1), ['exec', 'fork', 'exit', 'open', 'connect']);
    assert.deepEqual(KernelRules.kindsFor(RS2), ['exec', 'fork', 'exit', 'unlink', 'module']);
    assert.deepEqual(KernelRules.kindsFor(EMPTY), ['exec', 'fork', 'exit']);
    const all = rules(`rules:
  - { name: m, on: mount }
  - { name: s, on: setuid }
  - { name: c, on: chmod }
  - { name: p, on: ptrace }
  - { name: r, on: rename }
`);
    assert.deepEqual(KernelRules.kindsFor(all), ['exec', 'fork', 'exit', 'rename', 'chmod', 'ptrace', 'setuid', 'mount']);
  });
  describe('in force for real: connects from a cgroup mapped to the workload', () => {
    // 127.0.0.1:9 (discard; refused or accepted, never EPERM unless we refuse it)
    const LOCAL = rules(`rules:
  - name: no-local-discard
    workload: ${API}
    on: connect
    match: { destination: { cidr: [127.0.0.1/32], port: [9] } }
    action: deny
`);
    let cg: CgroupHandle;
    let actions: string;

    /** Connect from the cgroup; the addresses whose connect failed with EPERM. */
    async function refused(...targets: string[]): Promise<string[]> {
      assert.ok(sb);
      const r = await sb.run(cg, actions, targets);
      return targets.filter((t) => {
        const addr = t.slice(t.indexOf(':') + 1, t.lastIndexOf(':'));
        return r.stderr.includes(`actions: connect ${addr}: Operation not permitted`);
      });
    }

    before(function () {
      actions = fs.realpathSync(helperBinary('actions'));
      sb = CgroupSandbox.create('kernel-rules');
      cg = sb.child('api');
      assert.ok(probe);
      probe.setCgroup(cg.id, table.index(API));
    });

    it('the generation in force refuses; the next one, without the rule, does not', async () => {
      kr.apply(LOCAL, []);
      assert.deepEqual(await refused('connect4:127.0.0.1:9', 'connect4:127.0.0.2:9'), ['connect4:127.0.0.1:9']);
      kr.apply(EMPTY, []);
      assert.deepEqual(await refused('connect4:127.0.0.1:9'), []);
      kr.apply(LOCAL, []);
      assert.deepEqual(await refused('connect4:127.0.0.1:9'), ['connect4:127.0.0.1:9']);
    });

    // Regression (issue 9, IPv4-mapped IPv6): an AF_INET6 socket connecting to
    // ::ffff:127.0.0.1 reaches 127.0.0.1 and must be refused like it.
    it('the IPv4-mapped IPv6 form of a refused address is refused too', async () => {
      kr.apply(LOCAL, []);
      assert.deepEqual(await refused('connect4:127.0.0.1:9', 'connect6:::ffff:127.0.0.1:9'), ['connect4:127.0.0.1:9', 'connect6:::ffff:127.0.0.1:9']);
    });
  });
});
