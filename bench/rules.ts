// Rules benchmarks: matching cost in JS, in-kernel exec kills, user-space
// kill latency, and the cost of an unwatched kind in a watched cgroup.
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { Agent } from '../agent/agent';
import { benchCgroup } from './helpers';
import type { ExecEvent, FileEvent, KernelEvent } from '../agent/decode/events';
import { repoRoot } from '../common/repo';
import { Probe } from '../agent/kernel/probe';
import { RuleSet, type EvalContext } from '../agent/rules/compile';
import { loadRuleFiles, loadRuleSources } from '../agent/rules/load';
import { loadgenPath, median, runLoad } from './pipeline';

export interface RulesReport {
  matching: { rules: number; events: number; ns_per_event: number; matches: number };
  exec_kill: { trials: number; killed_by_sigkill: number; markers_written: number };
  user_kill: { trials: number; killed: number; p50_ms: number; p99_ms: number; max_ms: number };
  unwatched_open: { bare_ns_per_op: number; vigil_ns_per_op: number; overhead_pct: number };
  /** open+close in a workload with the default pack: a path the pack's rules watch (reported, judged) and one none names (dropped in the kernel) */
  pack_open: {
    reported: { path: string; bare_ns_per_op: number; vigil_ns_per_op: number; overhead_pct: number };
    dropped: { path: string; bare_ns_per_op: number; vigil_ns_per_op: number; overhead_pct: number };
  };
}

const quiet = (): Writable => new Writable({ write: (_c, _e, cb) => cb() });

/** The default pack plus `n` generated rules of every kind, with realistic paths and workloads. */
export function generatedRules(n: number): RuleSet {
  const base = loadRuleFiles([path.join(repoRoot(), 'deploy', 'rules', 'default.yaml')]);
  const dirs = ['/etc/', '/var/lib/', '/opt/app/', '/srv/data/', '/usr/local/etc/', '/home/', '/run/secrets/'];
  const bins = ['/usr/bin/curl', '/usr/bin/wget', '/usr/bin/nc', '/usr/bin/python3', '/usr/bin/perl', '/usr/bin/ssh'];
  let text = 'rules:\n';
  for (let i = 0; i < n; i++) {
    const w = `spiffe://bench.example.org/ns/ns${i % 50}/sa/sa${i % 7}`;
    switch (i % 5) {
      case 0:
        text += `  - { name: g${i}, workload: ${w}, on: open, match: { path: { in: [${dirs[i % dirs.length]}file${i}.conf] } } }\n`;
        break;
      case 1:
        text += `  - { name: g${i}, workload: ${w}, on: open, match: { path: { prefix: [${dirs[i % dirs.length]}d${i}/] }, flags: { any: [write] } } }\n`;
        break;
      case 2:
        text += `  - { name: g${i}, workload: ${w}, on: exec, match: { binary: { in: [${bins[i % bins.length]}] }, args: { contains: [--x${i}] } } }\n`;
        break;
      case 3:
        text += `  - { name: g${i}, workload: ${w}, on: connect, match: { destination: { cidr: [10.${i % 250}.0.0/16], port: [${1000 + i}] } } }\n`;
        break;
      default:
        text += `  - { name: g${i}, workload: ${w}, on: unlink, match: { path: { glob: ["${dirs[i % dirs.length]}**/*.log${i}"] } } }\n`;
    }
  }
  const gen = loadRuleSources([{ name: 'generated.yaml', text }]);
  return new RuleSet({ files: [...base.files, 'generated.yaml'], lists: base.lists, rules: [...base.rules, ...gen.rules] });
}

function matchingBench(): RulesReport['matching'] {
  const rs = generatedRules(1000);
  const common = { flags: 0, ktimeNs: 1n, tid: 1, uid: 1000, gid: 1000, cgroupId: 7, comm: 'app', workload: 0, procFlags: 0 };
  const opens: FileEvent[] = [
    '/etc/hostname', '/etc/shadow', '/usr/lib/x86_64-linux-gnu/libc.so.6', '/opt/app/d6/x', '/srv/data/file3.conf', '/proc/self/stat',
    '/var/lib/app/db.sqlite', '/usr/bin/python3',
  ].map((p, i) => ({ ...common, kind: 'open', pid: 100 + i, ret: 3, openFlags: i % 3 === 0 ? 1 : 0, mode: 0, path: p, newPath: '', syscallNr: 257, rule: 0 }));
  const execs: ExecEvent[] = ['/usr/bin/curl', '/usr/bin/ls', '/usr/bin/dash'].map((e, i) => ({
    ...common, kind: 'exec', pid: 200 + i, ppid: 1, exe: e, args: [e, '--x2'], argc: 2, startNs: 1n, exeIno: 1n, exeDev: 1, exeCtimeNs: 0n, rule: 0, exeFlags: 0,
  }));
  const events: KernelEvent[] = [];
  for (let i = 0; i < 1000; i++) events.push(i % 10 === 0 ? execs[i % execs.length] : opens[i % opens.length]);
  const ids = ['spiffe://bench.example.org/ns/ns3/sa/sa3', 'spiffe://bench.example.org/ns/ns9/sa/sa2', null];
  // what the pipeline gives the rules: the process name, the parent's arguments, the lineage (asked for lazily, cached per event), the image
  const image = { name: 'registry.example.org/team/app', tag: '1.0', digest: `sha256:${'ab'.repeat(32)}` };
  const ctxs: EvalContext[] = events.map((ev, i) => {
    let chain: string[] | undefined;
    return {
      ev,
      exe: ev.kind === 'exec' ? ev.exe : '/usr/bin/app',
      args: ev.kind === 'exec' ? ev.args : ['app', '--serve'],
      parentExe: '/usr/bin/bash',
      spiffeId: ids[i % ids.length],
      destSpiffeId: null,
      workloadStartNs: 0n,
      name: ev.kind === 'exec' ? path.basename(ev.exe) : 'app',
      parentArgs: ['bash', '-c', 'app --serve'],
      ancestors: () => (chain ??= ['/usr/bin/bash', '/usr/bin/containerd-shim-runc-v2', '/usr/lib/systemd/systemd']),
      image,
    };
  });
  let matches = 0;
  for (let w = 0; w < 200; w++) for (const c of ctxs) matches += rs.evaluate(c).length;
  matches = 0;
  const rounds = 1000;
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) for (const c of ctxs) matches += rs.evaluate(c).length;
  const ns = Number(process.hrtime.bigint() - t0);
  return { rules: rs.rules.length, events: rounds * ctxs.length, ns_per_event: Math.round((ns / (rounds * ctxs.length)) * 10) / 10, matches };
}

function startAgent(dir: string, rules: string, identities: string): Promise<Agent> {
  fs.writeFileSync(path.join(dir, 'rules.yaml'), rules);
  fs.writeFileSync(path.join(dir, 'ids.yaml'), identities);
  return Agent.start({
    rules: [path.join(dir, 'rules.yaml')],
    identities: path.join(dir, 'ids.yaml'),
    output: 'json',
    out: quiet(),
    err: quiet(),
  });
}

function runIn(cg: string, cmd: string, args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; pid: number }> {
  return new Promise((resolve, reject) => {
    const c = spawn('/bin/sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cg, cmd, ...args], { stdio: 'ignore' });
    c.on('error', reject);
    c.on('close', (code, signal) => resolve({ code, signal, pid: c.pid as number }));
  });
}

async function execKillBench(dir: string, cg: string, rel: string, trials: number): Promise<RulesReport['exec_kill']> {
  const victim = path.join(dir, 'forbidden');
  fs.writeFileSync(victim, `#!/bin/sh\necho ran >> ${dir}/markers\n`);
  fs.chmodSync(victim, 0o755);
  // the script's interpreter is what the kernel executes: forbid it in this workload
  const agent = await startAgent(
    dir,
    `rules:\n  - { name: no-dash, workload: spiffe://bench.vigil/w/exec, on: exec, match: { binary: { in: [/usr/bin/dash] } }, action: kill }\n`,
    `workloads:\n  - { spiffe_id: spiffe://bench.vigil/w/exec, cgroups: [${rel}] }\n`,
  );
  let killed = 0;
  try {
    for (let i = 0; i < trials; i++) {
      const r = await runIn(cg, victim, []);
      if (r.signal === 'SIGKILL') killed++;
    }
  } finally {
    await agent.stop();
  }
  const markers = fs.existsSync(path.join(dir, 'markers')) ? fs.readFileSync(path.join(dir, 'markers'), 'utf8').split('\n').filter(Boolean).length : 0;
  return { trials, killed_by_sigkill: killed, markers_written: markers };
}

async function userKillBench(dir: string, cg: string, rel: string, trials: number): Promise<RulesReport['user_kill']> {
  const trigger = path.join(dir, 'trigger');
  fs.writeFileSync(trigger, 'x');
  const actions = path.join(repoRoot(), 'build', 'test-bin', 'actions');
  if (!fs.existsSync(actions)) {
    fs.mkdirSync(path.dirname(actions), { recursive: true });
    execFileSync('gcc', ['-O2', '-o', actions, path.join(repoRoot(), 'test', 'helpers', 'actions.c')]);
  }
  const agent = await startAgent(
    dir,
    `rules:\n  - { name: trigger, workload: spiffe://bench.vigil/w/user, on: open, match: { path: { in: [${trigger}] }, args: { contains: ["sleep:"] } }, action: kill }\n`,
    `workloads:\n  - { spiffe_id: spiffe://bench.vigil/w/user, cgroups: [${rel}] }\n`,
  );
  // a second probe sees the trigger and the exit, with kernel timestamps
  const watch = Probe.load({ kinds: ['open', 'exit'], cgroups: [cg] });
  const openAt = new Map<number, bigint>();
  const lat: number[] = [];
  watch.start((evs) => {
    for (const e of evs) {
      if (e.kind === 'open' && e.path === trigger) openAt.set(e.pid, e.ktimeNs);
      if (e.kind === 'exit' && Probe.inScope(e)) {
        const t = openAt.get(e.pid);
        if (t !== undefined && (e.status & 0x7f) === 9) lat.push(Number(e.ktimeNs - t) / 1e6);
      }
    }
  });
  let killed = 0;
  try {
    for (let i = 0; i < trials; i++) {
      const r = await runIn(cg, actions, [`open:${trigger}`, 'sleep:1000']);
      if (r.signal === 'SIGKILL') killed++;
    }
    await new Promise((r) => setTimeout(r, 100));
  } finally {
    await watch.close();
    await agent.stop();
  }
  lat.sort((a, b) => a - b);
  const q = (p: number): number => (lat.length ? Math.round(lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] * 1000) / 1000 : NaN);
  return { trials, killed, p50_ms: q(0.5), p99_ms: q(0.99), max_ms: q(1) };
}

async function openLoop(cg: string, n: number): Promise<number> {
  return (await runLoad(loadgenPath(), cg, ['open', String(n), '/etc/hostname'], 1)).ns_per_op;
}

async function unwatchedOpenBench(dir: string, cg: string, rel: string, quick: boolean): Promise<RulesReport['unwatched_open']> {
  const n = quick ? 100_000 : 1_000_000;
  execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
  const bare: number[] = [];
  const watched: number[] = [];
  // rules that want exec and unlink in this workload, nothing about opens: sys_exit is attached, opens exit early
  const rules = `rules:
  - { name: shells, workload: spiffe://bench.vigil/w/open, on: exec, match: { binary: { in: [/usr/bin/dash] } } }
  - { name: rm-etc, workload: spiffe://bench.vigil/w/open, on: unlink, match: { path: { prefix: [/etc/] } } }
`;
  for (let i = 0; i < (quick ? 2 : 5); i++) {
    bare.push(await openLoop(cg, n));
    const agent = await startAgent(dir, rules, `workloads:\n  - { spiffe_id: spiffe://bench.vigil/w/open, cgroups: [${rel}] }\n`);
    try {
      watched.push(await openLoop(cg, n));
    } finally {
      await agent.stop();
    }
  }
  const b = median(bare);
  const v = median(watched);
  return { bare_ns_per_op: Math.round(b), vigil_ns_per_op: Math.round(v), overhead_pct: Math.round(((v - b) / b) * 1000) / 10 };
}

/** open+close with the default pack watching the workload: a file below /etc/ (the pack watches /etc/ in workloads), and one no rule names. */
async function packOpenBench(dir: string, cg: string, rel: string, quick: boolean): Promise<RulesReport['pack_open']> {
  const n = quick ? 100_000 : 1_000_000;
  execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
  const pack = fs.readFileSync(path.join(repoRoot(), 'deploy', 'rules', 'default.yaml'), 'utf8');
  const one = async (file: string): Promise<RulesReport['pack_open']['reported']> => {
    const bare: number[] = [];
    const watched: number[] = [];
    for (let i = 0; i < (quick ? 2 : 5); i++) {
      bare.push((await runLoad(loadgenPath(), cg, ['open', String(n), file], 1)).ns_per_op);
      const agent = await startAgent(dir, pack, `workloads:\n  - { spiffe_id: spiffe://bench.vigil/ns/pack/sa/app, cgroups: [${rel}] }\n`);
      try {
        watched.push((await runLoad(loadgenPath(), cg, ['open', String(n), file], 1)).ns_per_op);
      } finally {
        await agent.stop();
      }
    }
    const b = median(bare);
    const v = median(watched);
    return { path: file, bare_ns_per_op: Math.round(b), vigil_ns_per_op: Math.round(v), overhead_pct: Math.round(((v - b) / b) * 1000) / 10 };
  };
  return { reported: await one('/etc/hostname'), dropped: await one('/usr/lib/os-release') };
}

export async function runRulesBench(opts: { quick?: boolean } = {}): Promise<RulesReport> {
  if (process.geteuid?.() !== 0) throw new Error('the rules benchmark needs root (BPF, cgroups)');
  const matching = matchingBench();
  const bench = benchCgroup('rules');
  const { rel, dir: cg } = bench;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-rules-'));
  try {
    const exec_kill = await execKillBench(dir, cg, rel, opts.quick ? 100 : 1000);
    const user_kill = await userKillBench(dir, cg, rel, opts.quick ? 50 : 300);
    const unwatched_open = await unwatchedOpenBench(dir, cg, rel, opts.quick ?? false);
    const pack_open = await packOpenBench(dir, cg, rel, opts.quick ?? false);
    return { matching, exec_kill, user_kill, unwatched_open, pack_open };
  } finally {
    await bench.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function rulesTable(r: RulesReport): string {
  return [
    `rule matching: ${r.matching.rules} rules (default pack + 1000 generated), ${r.matching.events} events: ${r.matching.ns_per_event} ns per event in JS`,
    `in-kernel exec kill: ${r.exec_kill.killed_by_sigkill} of ${r.exec_kill.trials} killed by SIGKILL, ${r.exec_kill.markers_written} ran a single line`,
    `user-space kill, syscall to death (kernel timestamps): ${r.user_kill.killed} of ${r.user_kill.trials} killed; p50 ${r.user_kill.p50_ms} ms, p99 ${r.user_kill.p99_ms} ms, max ${r.user_kill.max_ms} ms`,
    `open+close in a watched cgroup, no rule wants opens: bare ${r.unwatched_open.bare_ns_per_op} ns/op, with the agent ${r.unwatched_open.vigil_ns_per_op} ns/op: +${r.unwatched_open.overhead_pct}%`,
    ...(['reported', 'dropped'] as const).map((k) => {
      const o = r.pack_open[k];
      return `open+close of ${o.path} in a workload, default pack (${k === 'reported' ? 'a directory the pack watches: reported and judged' : 'no rule names it: dropped in the kernel'}): bare ${o.bare_ns_per_op} ns/op, with the agent ${o.vigil_ns_per_op} ns/op: +${o.overhead_pct}%`;
    }),
  ].join('\n');
}
