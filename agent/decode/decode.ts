// Decoder for ring-buffer batches: DataView reads at the fixed offsets of
// abi.ts, one object per record. A batch is records back to back, each
// starting with event_hdr whose `size` covers the whole record.
import * as path from 'node:path';
import {
  Attr,
  Bpf,
  CgroupEv,
  EXEC_CWD_CUT,
  Memfd,
  SockFd,
  Connect,
  EventKind,
  Exec,
  Exit,
  File,
  Flag,
  Fork,
  Hdr,
  IoUring,
  Code,
  CodeHow,
  KIND_BY_NUMBER,
  Limits,
  Migrate,
  PROC,
  Priv,
  Proc,
  Socket,
  Sys,
  type AnyKindName,
} from '../kernel/abi';
import type {
  AttrEvent,
  BpfEvent,
  MemfdEvent,
  SockFdEvent,
  CgroupEvent,
  ConnectEvent,
  ExecEvent,
  ExitEvent,
  DirId,
  FileEvent,
  ForkEvent,
  IoUringEvent,
  CodeEvent,
  KernelEvent,
  MigrateEvent,
  PrivEvent,
  SocketEvent,
  SysEvent,
} from './events';

export interface DecodeStats {
  records: number;
  malformed: number;
  unknownKind: number;
}

/** `.` and `..` of a name joined to a kernel-resolved directory, removed lexically. */
export function cleanLexicalPath(p: string): string {
  if (p === '') return p;
  const n = path.posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

function ipv4(b: Buffer, off: number): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/** RFC 5952 text form of an IPv6 address (IPv4-mapped as ::ffff:a.b.c.d). */
export function ipv6(b: Buffer, off: number): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((b[off + 2 * i] << 8) | b[off + 2 * i + 1]);
  if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0xffff) {
    return `::ffff:${ipv4(b, off + 12)}`;
  }
  // longest run of zero words (length >= 2) becomes ::
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(w);
  return `${hex(w.slice(0, bestStart))}::${hex(w.slice(bestStart + bestLen))}`;
}

/** Each kind's record layout: its SIZE is the fixed part, the least a record of that kind can be. */
const LAYOUT: Record<AnyKindName, { readonly SIZE: number }> = {
  exec: Exec, fork: Fork, exit: Exit, open: File, unlink: File, rename: File, chmod: File, link: File, symlink: File,
  connect: Connect, ptrace: Priv, setuid: Priv, namespace: Priv, userfaultfd: Priv, mount: Sys, module: Sys,
  cgroup: CgroupEv, migrate: Migrate, socket: Socket, io_uring: IoUring, code: Code, chown: Attr, setxattr: Attr,
  bind: SockFd, listen: SockFd, dup: SockFd, memfd: Memfd, bpf: Bpf,
};
/** LAYOUT's sizes by kind number (0: no such kind). */
const FIXED_SIZE: readonly number[] = KIND_BY_NUMBER.map((k) => (k === undefined ? 0 : LAYOUT[k].SIZE));

/** A little-endian u64 as a number, as cgroup ids are carried (exact below 2^53). */
function u64n(dv: DataView, at: number): number {
  return dv.getUint32(at, true) + dv.getUint32(at + 4, true) * 0x100000000;
}

export class Decoder {
  readonly stats: DecodeStats = { records: 0, malformed: 0, unknownKind: 0 };

  /** Decode every record of a batch. Malformed tails are counted, not thrown. */
  decodeBatch(ab: ArrayBuffer, out: KernelEvent[] = []): KernelEvent[] {
    const dv = new DataView(ab);
    const buf = Buffer.from(ab);
    const end = ab.byteLength;
    let off = 0;
    while (off + Hdr.SIZE <= end) {
      const size = dv.getUint32(off + Hdr.size, true);
      if (size < Hdr.SIZE + PROC || size > Limits.RECORD_MAX || off + size > end) {
        // cannot find the next record boundary: give up on this batch
        this.stats.malformed++;
        return out;
      }
      const ev = this.decodeRecord(dv, buf, off, size);
      if (ev) {
        out.push(ev);
        this.stats.records++;
      }
      off += size;
    }
    if (off !== end) this.stats.malformed++;
    return out;
  }

  private str(buf: Buffer, start: number, len: number, recEnd: number): string {
    if (len === 0) return '';
    if (start + len > recEnd) throw new RangeError('string beyond record end');
    return buf.toString('utf8', start, start + len);
  }

  private comm(buf: Buffer, p: number): string {
    return this.cstr(buf, p + Proc.comm, Limits.COMM_LEN);
  }

  /** A NUL-terminated string in a fixed field of `max` bytes (scans only those). */
  private cstr(buf: Buffer, start: number, max: number): string {
    let end = start;
    const stop = start + max;
    while (end < stop && buf[end] !== 0) end++;
    return buf.toString('utf8', start, end);
  }

  /**
   * One record. Objects are built as literals with every field in a fixed
   * order, one shape per kind, so that V8 keeps them fast (this loop runs
   * half a million times a second). The eleven header fields are written out
   * in each literal on purpose: spreading one shared header object into them
   * measured about 100 times slower.
   */
  decodeRecord(dv: DataView, buf: Buffer, off: number, size: number): KernelEvent | undefined {
    const kindNum = dv.getUint8(off + Hdr.kind);
    const kind = KIND_BY_NUMBER[kindNum];
    if (kind === undefined) {
      this.stats.unknownKind++;
      return undefined;
    }
    if (size < FIXED_SIZE[kindNum]) {
      // a known kind shorter than its fixed part
      this.stats.malformed++;
      return undefined;
    }
    const recEnd = off + size;
    const flags = dv.getUint8(off + Hdr.flags);
    const ktimeNs = dv.getBigUint64(off + Hdr.ktime_ns, true);
    const p = off + PROC;
    const pid = dv.getUint32(p + Proc.pid, true);
    const tid = dv.getUint32(p + Proc.tid, true);
    const uid = dv.getUint32(p + Proc.uid, true);
    const gid = dv.getUint32(p + Proc.gid, true);
    const cgroupId = u64n(dv, p + Proc.cgroup_id);
    const comm = this.comm(buf, p);
    const workload = dv.getUint32(p + Proc.workload, true);
    const procFlags = dv.getUint32(p + Proc.pflags, true);
    try {
      switch (kindNum) {
        case EventKind.exec: {
          const exeLen = dv.getUint16(off + Exec.exe_len, true);
          const argsLen = dv.getUint16(off + Exec.args_len, true);
          const cwdRaw = dv.getUint16(off + Exec.cwd_len, true);
          const cwdLen = cwdRaw & ~EXEC_CWD_CUT;
          const tail = off + Exec.tail;
          const argsRaw = this.str(buf, tail + exeLen, argsLen, recEnd);
          const cwd = cwdLen === 0 || cwdRaw & EXEC_CWD_CUT ? null : this.str(buf, tail + exeLen + argsLen, cwdLen, recEnd);
          const ev: ExecEvent = {
            kind: 'exec', flags, ktimeNs, pid, tid, uid, gid, cgroupId, comm, workload, procFlags,
            ppid: dv.getUint32(off + Exec.ppid, true),
            exe: this.str(buf, tail, exeLen, recEnd),
            args: argsLen === 0 ? [] : argsRaw.split('\0'),
            // a program the loader mapped has the loader's argv; the kernel knows no argc there
            argc: dv.getUint32(off + Exec.argc, true) || (argsLen === 0 ? 0 : argsRaw.split('\0').length),
            startNs: dv.getBigUint64(off + Exec.start_ns, true),
            exeIno: dv.getBigUint64(off + Exec.exe_ino, true),
            exeDev: dv.getUint32(off + Exec.exe_dev, true),
            exeCtimeNs: dv.getBigUint64(off + Exec.exe_ctime_ns, true),
            cwd,
            rule: dv.getUint32(off + Exec.rule, true),
            exeFlags: dv.getUint16(off + Exec.exe_flags, true),
          };
          return ev;
        }
        case EventKind.fork: {
          const ev: ForkEvent = {
            kind: 'fork', flags, ktimeNs, pid, tid, uid, gid, cgroupId, comm, workload, procFlags,
            childPid: dv.getUint32(off + Fork.child_pid, true),
            childStartNs: dv.getBigUint64(off + Fork.child_start_ns, true),
          };
          return ev;
        }
        case EventKind.exit: {
          const ev: ExitEvent = {
            kind: 'exit', flags, ktimeNs, pid, tid, uid, gid, cgroupId, comm, workload, procFlags,
            status: dv.getUint32(off + Exit.status, true),
            startNs: dv.getBigUint64(off + Exit.start_ns, true),
          };
          return ev;
        }
        case EventKind.open:
        case EventKind.unlink:
        case EventKind.rename:
        case EventKind.chmod:
        case EventKind.link:
        case EventKind.symlink: {
          const pathLen = dv.getUint16(off + File.path_len, true);
          const newLen = dv.getUint16(off + File.new_path_len, true);
          let fp = this.str(buf, off + File.tail, pathLen, recEnd);
          let np = newLen === 0 ? '' : this.str(buf, off + File.tail + pathLen, newLen, recEnd);
          const dirIno = dv.getBigUint64(off + File.dir_ino, true);
          const newDirIno = dv.getBigUint64(off + File.new_dir_ino, true);
          const dirId: DirId | null =
            dirIno === 0n ? null : { dev: dv.getUint32(off + File.dir_dev, true), ino: dirIno, off: dv.getUint16(off + File.dir_off, true), raw: fp };
          const newDirId: DirId | null =
            newDirIno === 0n
              ? null
              : { dev: dv.getUint32(off + File.new_dir_dev, true), ino: newDirIno, off: dv.getUint16(off + File.new_dir_off, true), raw: np };
          if (flags & Flag.PATH_LEXICAL) fp = cleanLexicalPath(fp);
          if (flags & Flag.STR2_LEXICAL) np = cleanLexicalPath(np);
          const rawMode = dv.getUint32(off + File.mode, true);
          const ev: FileEvent = {
            kind: kind as FileEvent['kind'], flags, ktimeNs, pid, tid, uid, gid, cgroupId, comm, workload, procFlags,
            ret: dv.getInt32(off + File.ret, true),
            openFlags: dv.getUint32(off + File.flags, true),
            // open: the umask rides in bits 16-24 of the mode word
            mode: rawMode & 0xffff,
            umask: kindNum === EventKind.open ? (rawMode >>> 16) & 0o777 : 0,
            path: fp,
            newPath: np,
            syscallNr: dv.getUint32(off + File.syscall_nr, true),
            rule: dv.getUint32(off + File.rule, true),
            dirId,
            newDirId,
            idFlags: dv.getUint16(off + File.id_flags, true),
          };
          return ev;
        }
        case EventKind.connect: {
          const family = dv.getUint16(off + Connect.family, true);
          const ev: ConnectEvent = {
            kind: 'connect', flags, ktimeNs, pid, tid, uid, gid, cgroupId, comm, workload, procFlags,
            family,
            dport: dv.getUint16(off + Connect.dport, true),
            sockType: dv.getUint16(off + Connect.sock_type, true),
            protocol: dv.getUint16(off + Connect.protocol, true),
            daddr: family === 10 ? ipv6(buf, off + Connect.daddr) : ipv4(buf, off + Connect.daddr),
            rule: dv.getUint32(off + Connect.rule, true),
          };
          return ev;
        }
        case EventKind.ptrace:
        case EventKind.setuid:
        case EventKind.namespace:
        case EventKind.userfaultfd: {
          const a = off + Priv.arg;
          const ev: PrivEvent = {
            kind: kind as PrivEvent['kind'], flags, ktimeNs, pid, tid, uid, gid, cgroupId, comm, workload, procFlags,
            ret: dv.getInt32(off + Priv.ret, true),
            syscallNr: dv.getUint32(off + Priv.syscall_nr, true),
            arg: [dv.getUint32(a, true), dv.getUint32(a + 4, true), dv.getUint32(a + 8, true), dv.getUint32(a + 12, true)],
            rule: dv.getUint32(off + Priv.rule, true),
          };
          return ev;
        }
        case EventKind.mount:
        case EventKind.module: {
          const l1 = dv.getUint16(off + Sys.str1_len, true);
          const l2 = dv.getUint16(off + Sys.str2_len, true);
          const l3 = dv.getUint16(off + Sys.str3_len, true);
          const t = off + Sys.tail;
          let s2 = this.str(buf, t + l1, l2, recEnd);
          if (flags & Flag.STR2_LEXICAL) s2 = cleanLexicalPath(s2);
          const ev: SysEvent = {
            kind: kind as SysEvent['kind'], flags, ktimeNs, pid, tid, uid, gid, cgroupId, comm, workload, procFlags,
            ret: dv.getInt32(off + Sys.ret, true),
            syscallNr: dv.getUint32(off + Sys.syscall_nr, true),
            sysFlags: dv.getUint32(off + Sys.flags, true),
            str1: this.str(buf, t, l1, recEnd),
            str2: s2,
            str3: this.str(buf, t + l1 + l2, l3, recEnd),
            rule: dv.getUint32(off + Sys.rule, true),
          };
          return ev;
        }
        case EventKind.cgroup: {
          const ev: CgroupEvent = {
            kind: 'cgroup', flags, ktimeNs, pid, tid, uid, gid, cgroupId, comm, workload, procFlags,
            id: u64n(dv, off + CgroupEv.id),
            parentId: u64n(dv, off + CgroupEv.parent_id),
            path: this.str(buf, off + CgroupEv.SIZE, dv.getUint16(off + CgroupEv.path_len, true), recEnd) || null,
            removed: dv.getUint16(off + CgroupEv.op, true) === 1,
          };
          return ev;
        }
        case EventKind.migrate: {
          const ev: MigrateEvent = {
            kind: 'migrate', flags, ktimeNs, pid, tid, uid, gid, cgroupId, comm, workload, procFlags,
            toCgroupId: u64n(dv, off + Migrate.to_cgid),
            toPath: this.str(buf, off + Migrate.tail, dv.getUint16(off + Migrate.path_len, true), recEnd) || null,
            fromCgroupId: u64n(dv, off + Migrate.from_cgid),
            writerPid: dv.getUint32(off + Migrate.writer_pid, true),
            threadgroup: dv.getUint16(off + Migrate.threadgroup, true) === 1,
            rule: dv.getUint32(off + Migrate.rule, true),
          };
          return ev;
        }
        case EventKind.socket: {
          const ev: SocketEvent = {
            kind: 'socket', flags, ktimeNs, pid, tid, uid, gid, cgroupId, comm, workload, procFlags,
            family: dv.getUint16(off + Socket.family, true),
            sockType: dv.getUint16(off + Socket.type, true),
            protocol: dv.getUint16(off + Socket.protocol, true),
            ret: dv.getInt32(off + Socket.ret, true),
            rule: dv.getUint32(off + Socket.rule, true),
          };
          return ev;
        }
        case EventKind.io_uring: {
          const ev: IoUringEvent = {
            kind: 'io_uring', flags, ktimeNs, pid, tid, uid, gid, cgroupId, comm, workload, procFlags,
            opcode: dv.getUint8(off + IoUring.opcode),
            opClass: dv.getUint8(off + IoUring.op_class),
            family: dv.getUint16(off + IoUring.family, true),
            sockType: dv.getUint16(off + IoUring.sock_type, true),
            path: this.cstr(buf, off + IoUring.path, IoUring.NAME) || null,
            newPath: this.cstr(buf, off + IoUring.new_path, IoUring.NAME) || null,
            pathFull: dv.getUint8(off + IoUring.names_full) !== 0,
            rule: dv.getUint32(off + IoUring.rule, true),
          };
          return ev;
        }
        case EventKind.code: {
          const how = dv.getUint8(off + Code.how);
          const ev: CodeEvent = {
            kind: 'code', flags, ktimeNs, pid, tid, uid, gid, cgroupId, comm, workload, procFlags,
            path: this.str(buf, off + Code.tail, dv.getUint16(off + Code.path_len, true), recEnd),
            dev: dv.getUint32(off + Code.dev, true),
            ino: dv.getBigUint64(off + Code.ino, true),
            how: how === CodeHow.mmap ? 'mmap' : how === CodeHow.mprotect ? 'mprotect' : 'open',
          };
          return ev;
        }
        case EventKind.chown:
        case EventKind.setxattr: {
          const pl = dv.getUint16(off + Attr.path_len, true);
          const nl = dv.getUint16(off + Attr.name_len, true);
          let fp = this.str(buf, off + Attr.tail, pl, recEnd);
          if (flags & Flag.PATH_LEXICAL) fp = cleanLexicalPath(fp);
          const ev: AttrEvent = {
            kind: kind as AttrEvent['kind'], flags, ktimeNs, pid, tid, uid, gid, cgroupId, comm, workload, procFlags,
            ret: dv.getInt32(off + Attr.ret, true),
            syscallNr: dv.getUint32(off + Attr.syscall_nr, true),
            ownerUid: dv.getUint32(off + Attr.uid, true),
            ownerGid: dv.getUint32(off + Attr.gid, true),
            attrFlags: dv.getUint32(off + Attr.flags, true),
            path: fp,
            name: this.str(buf, off + Attr.tail + pl, nl, recEnd),
            valueLen: dv.getUint32(off + Attr.value_len, true),
            rule: dv.getUint32(off + Attr.rule, true),
          };
          return ev;
        }
        case EventKind.bind:
        case EventKind.listen:
        case EventKind.dup: {
          const family = dv.getUint16(off + SockFd.family, true);
          const a = off + SockFd.addr;
          let addr = '';
          if (family === 2) addr = ipv4(buf, a);
          else if (family === 10) addr = ipv6(buf, a);
          const ev: SockFdEvent = {
            kind: kind as SockFdEvent['kind'], flags, ktimeNs, pid, tid, uid, gid, cgroupId, comm, workload, procFlags,
            ret: dv.getInt32(off + SockFd.ret, true),
            syscallNr: dv.getUint32(off + SockFd.syscall_nr, true),
            fd: dv.getInt32(off + SockFd.fd, true),
            family,
            sockType: dv.getUint16(off + SockFd.type, true),
            protocol: dv.getUint16(off + SockFd.protocol, true),
            addr,
            port: dv.getUint16(off + SockFd.port, true),
            backlog: dv.getUint32(off + SockFd.backlog, true),
            rule: dv.getUint32(off + SockFd.rule, true),
          };
          return ev;
        }
        case EventKind.memfd: {
          const ev: MemfdEvent = {
            kind: 'memfd', flags, ktimeNs, pid, tid, uid, gid, cgroupId, comm, workload, procFlags,
            ret: dv.getInt32(off + Memfd.ret, true),
            memfdFlags: dv.getUint32(off + Memfd.flags, true),
            name: this.cstr(buf, off + Memfd.name, Memfd.NAME),
            rule: dv.getUint32(off + Memfd.rule, true),
          };
          return ev;
        }
        case EventKind.bpf: {
          const ev: BpfEvent = {
            kind: 'bpf', flags, ktimeNs, pid, tid, uid, gid, cgroupId, comm, workload, procFlags,
            ret: dv.getInt32(off + Bpf.ret, true),
            cmd: dv.getUint32(off + Bpf.cmd, true),
            progType: dv.getUint32(off + Bpf.prog_type, true),
            attachType: dv.getUint32(off + Bpf.attach_type, true),
            insnCnt: dv.getUint32(off + Bpf.insn_cnt, true),
            progName: this.cstr(buf, off + Bpf.prog_name, Bpf.NAME),
            rule: dv.getUint32(off + Bpf.rule, true),
          };
          return ev;
        }
        default:
          this.stats.unknownKind++;
          return undefined;
      }
    } catch {
      this.stats.malformed++;
      return undefined;
    }
  }
}
