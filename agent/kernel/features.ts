// What this kernel offers Vigil, found by trying: `vigil probe`.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { findCgroup2Mount } from './cgroupfs';
import { errorMessage } from '../../common/errors';
import { bpfObjectPath, native, type FeatureOutcome } from './native';

export interface HookSupport {
  hook: string;
  section: string;
  usable: boolean;
  error: string | null;
}

export interface KernelFeatures {
  kernel: string;
  arch: string;
  btf: boolean;
  cgroup2: string | null;
  bpfLsmActive: boolean;
  hooks: HookSupport[];
  /** what Vigil uses for each kind of event on this kernel */
  sources: Record<string, string>;
  /** the strongest enforcement this kernel allows, per event family */
  enforcement: Record<string, string>;
}

const HOOK_NAMES: Record<string, string> = {
  feat_tp_btf: 'BTF tracepoint (tp_btf)',
  feat_raw_tp: 'raw tracepoint',
  feat_tracepoint: 'classic tracepoint',
  feat_fentry: 'fentry',
  feat_fexit: 'fexit',
  feat_lsm: 'BPF LSM',
  feat_kprobe: 'kprobe',
  feat_cgroup_connect4: 'cgroup/connect4',
  feat_cgroup_sendmsg4: 'cgroup/sendmsg4',
  feat_send_signal: 'bpf_send_signal from tp_btf',
};

let btfText: string | null = null;

/**
 * Does this kernel have the tracepoint (its BTF names `btf_trace_<name>`)?
 * A tp_btf program for a missing one would fail the whole object's load.
 */
export function hasBtfTracepoint(name: string): boolean {
  if (btfText === null) {
    try {
      btfText = fs.readFileSync('/sys/kernel/btf/vmlinux').toString('latin1');
    } catch {
      btfText = '';
    }
  }
  return btfText.includes(`\0btf_trace_${name}\0`);
}

export function probeKernel(): KernelFeatures {
  let cgroup2: string | null = null;
  try {
    cgroup2 = findCgroup2Mount();
  } catch {
    cgroup2 = null;
  }
  let outcomes: FeatureOutcome[] = [];
  let probeError: string | null = null;
  try {
    outcomes = native().probeFeatures(bpfObjectPath('features'), cgroup2 ?? undefined);
  } catch (err) {
    probeError = errorMessage(err);
  }
  const hooks: HookSupport[] = outcomes.map((o) => ({
    hook: HOOK_NAMES[o.program] ?? o.program,
    section: o.section,
    usable: o.loaded && o.attached,
    error: o.error,
  }));
  if (probeError) hooks.push({ hook: 'probing', section: '', usable: false, error: probeError });
  const ok = (p: string): boolean => outcomes.some((o) => o.program === p && o.loaded && o.attached);
  let lsmList = '';
  try {
    lsmList = fs.readFileSync('/sys/kernel/security/lsm', 'utf8');
  } catch {
    lsmList = '';
  }
  const bpfLsmActive = lsmList.split(',').includes('bpf') && ok('feat_lsm');
  const sources: Record<string, string> = {
    'exec, fork, exit': ok('feat_tp_btf') ? 'tp_btf/sched_process_{exec,fork,exit}' : 'unavailable',
    'open, unlink, rename, chmod, ptrace, setuid, mount, module': ok('feat_tp_btf') ? 'tp_btf/sys_exit' : 'unavailable',
    connect: ok('feat_cgroup_connect4') ? 'cgroup/connect4, cgroup/connect6 at the cgroup v2 root' : 'unavailable',
  };
  const enforcement: Record<string, string> = {
    exec: bpfLsmActive
      ? 'deny before exec (BPF LSM)'
      : ok('feat_send_signal')
        ? 'SIGKILL from sched_process_exec: the new image never runs'
        : 'user-space kill (pidfd)',
    'file, privilege': bpfLsmActive
      ? 'deny before the operation (BPF LSM)'
      : ok('feat_send_signal')
        ? 'SIGKILL in the kernel at syscall exit: the syscall itself completes'
        : 'user-space kill (pidfd)',
    connect: ok('feat_cgroup_connect4') ? 'deny in the kernel (cgroup/connect*: EPERM)' : 'alert only',
  };
  return {
    kernel: os.release(),
    arch: os.arch(),
    btf: fs.existsSync('/sys/kernel/btf/vmlinux'),
    cgroup2,
    bpfLsmActive,
    hooks,
    sources,
    enforcement,
  };
}

export function featuresText(f: KernelFeatures): string {
  const lines: string[] = [];
  lines.push(`kernel ${f.kernel} (${f.arch}), BTF ${f.btf ? 'yes' : 'NO: CO-RE probes cannot load'}`);
  lines.push(`cgroup v2: ${f.cgroup2 ?? 'NOT MOUNTED'}`);
  lines.push(`BPF LSM active: ${f.bpfLsmActive ? 'yes' : 'no'}`);
  lines.push('');
  lines.push('hooks:');
  for (const h of f.hooks) {
    lines.push(`  ${h.usable ? 'yes' : 'no '}  ${h.hook.padEnd(30)} ${h.section.padEnd(32)} ${h.error ?? ''}`.trimEnd());
  }
  lines.push('');
  lines.push('event sources:');
  for (const [k, v] of Object.entries(f.sources)) lines.push(`  ${k.padEnd(58)} ${v}`);
  lines.push('');
  lines.push('strongest enforcement:');
  for (const [k, v] of Object.entries(f.enforcement)) lines.push(`  ${k.padEnd(16)} ${v}`);
  return lines.join('\n') + '\n';
}
