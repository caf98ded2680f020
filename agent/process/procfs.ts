// What /proc says about a process (for processes older than the agent, and
// checks before a kill), and this boot's id.
import * as fs from 'node:fs';
import type { ProcessInfo } from './process-cache';

/** USER_HZ: the unit of /proc/PID/stat start times, 100 on every Linux ABI we run on. */
export const USER_HZ = 100;

/** cgroup v2 path of a process ("/a/b"), from /proc/PID/cgroup's "0::" line. */
export function procCgroupPath(pid: number, procRoot: string): string | undefined {
  try {
    const text = fs.readFileSync(`${procRoot}/${pid}/cgroup`, 'utf8');
    const line = text.split('\n').find((l) => l.startsWith('0::'));
    return line ? line.slice(3) : undefined;
  } catch {
    return undefined;
  }
}

/** Read one /proc/PID entry; undefined if it vanished or is a kernel thread. */
export function readProcEntry(
  pid: number,
  node: string,
  procRoot = '/proc',
  cgroupIdOfPath?: (rel: string) => number | undefined,
): ProcessInfo | undefined {
  try {
    const stat = fs.readFileSync(`${procRoot}/${pid}/stat`, 'utf8');
    // comm may contain spaces and parentheses: fields resume after the last ')'
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    const ppid = Number(fields[1]);
    const startTicks = BigInt(fields[19]);
    const startNs = (startTicks * 1_000_000_000n) / BigInt(USER_HZ);
    let exe = '';
    try {
      exe = fs.readlinkSync(`${procRoot}/${pid}/exe`);
    } catch {
      return undefined; // kernel thread or gone
    }
    const cmdline = fs.readFileSync(`${procRoot}/${pid}/cmdline`, 'utf8');
    const args = cmdline.length ? cmdline.replace(/\0$/, '').split('\0') : [];
    const status = fs.readFileSync(`${procRoot}/${pid}/status`, 'utf8');
    const uidLine = /^Uid:\s+(\d+)/m.exec(status);
    const gidLine = /^Gid:\s+(\d+)/m.exec(status);
    const cgPath = cgroupIdOfPath ? procCgroupPath(pid, procRoot) : undefined;
    return {
      pid,
      ppid,
      execId: `${node}:${startNs}:${pid}`,
      parentExecId: null,
      exe: exe.replace(/ \(deleted\)$/, ''),
      args,
      uid: uidLine ? Number(uidLine[1]) : 0,
      gid: gidLine ? Number(gidLine[1]) : 0,
      comm,
      cgroupId: (cgPath !== undefined && cgroupIdOfPath?.(cgPath)) || 0,
      startNs,
      exited: false,
    };
  } catch {
    return undefined;
  }
}

/** Every process's cgroup v2 path, from /proc (processes that vanish meanwhile are skipped). */
export function* procCgroups(procRoot = '/proc'): Generator<{ pid: number; cgroup: string }> {
  for (const name of fs.readdirSync(procRoot)) {
    if (!/^\d+$/.test(name)) continue;
    const cgroup = procCgroupPath(Number(name), procRoot);
    if (cgroup !== undefined) yield { pid: Number(name), cgroup };
  }
}

/** This boot's id (what makes the agent's alert sequence numbers unique across reboots). */
export function readBootId(): string {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown-boot';
  }
}
