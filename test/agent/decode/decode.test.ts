// Decoder edge cases that a healthy kernel rarely produces: built by hand.
import * as assert from 'node:assert/strict';
import { Attr, Bpf, EventKind, Exec, EXEC_CWD_CUT, File, Flag, Hdr, Memfd, PROC, Proc, SockFd } from '../../../agent/kernel/abi';
import { Decoder, cleanLexicalPath, ipv6 } from '../../../agent/decode/decode';
import type { AttrEvent, BpfEvent, ExecEvent, FileEvent, MemfdEvent, SockFdEvent } from '../../../agent/decode/events';

function fileRecord(path: string, flags = 0): Buffer {
  const p = Buffer.from(path);
  const b = Buffer.alloc(File.SIZE + p.length);
  b.writeUInt8(EventKind.open, Hdr.kind);
  b.writeUInt8(flags, Hdr.flags);
  b.writeUInt32LE(b.length, Hdr.size);
  b.writeBigUInt64LE(123456789n, Hdr.ktime_ns);
  b.writeUInt32LE(42, PROC + Proc.pid);
  b.writeUInt32LE(43, PROC + Proc.tid);
  b.writeUInt32LE(1000, PROC + Proc.uid);
  b.writeUInt32LE(7, PROC + Proc.cgroup_id);
  b.write('cat', PROC + Proc.comm);
  b.writeInt32LE(3, File.ret);
  b.writeUInt32LE(0o1101, File.flags);
  b.writeUInt32LE(0o644, File.mode);
  b.writeUInt16LE(p.length, File.path_len);
  p.copy(b, File.tail);
  return b;
}

/** A record of `kind` with its fixed part (size bytes) and a tail. */
function record(kind: number, size: number, tail: Buffer = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(size + tail.length);
  b.writeUInt8(kind, Hdr.kind);
  b.writeUInt32LE(b.length, Hdr.size);
  b.writeUInt32LE(42, PROC + Proc.pid);
  tail.copy(b, size);
  return b;
}

const ab = (b: Buffer): ArrayBuffer => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;

describe('decoder', () => {
  it('decodes back-to-back records', () => {
    const d = new Decoder();
    const evs = d.decodeBatch(ab(Buffer.concat([fileRecord('/etc/passwd'), fileRecord('/tmp/x')])));
    assert.equal(evs.length, 2);
    const e = evs[0] as FileEvent;
    assert.equal(e.kind, 'open');
    assert.equal(e.pid, 42);
    assert.equal(e.tid, 43);
    assert.equal(e.uid, 1000);
    assert.equal(e.cgroupId, 7);
    assert.equal(e.comm, 'cat');
    assert.equal(e.path, '/etc/passwd');
    assert.equal(e.openFlags, 0o1101);
    assert.equal(e.mode, 0o644);
    assert.equal(e.ktimeNs, 123456789n);
    assert.equal((evs[1] as FileEvent).path, '/tmp/x');
    assert.deepEqual(d.stats, { records: 2, malformed: 0, unknownKind: 0 });
  });

  it('cleans lexical paths only when the kernel says they are lexical', () => {
    const d = new Decoder();
    const [a, b] = d.decodeBatch(ab(Buffer.concat([fileRecord('/a/b/../c/./d', Flag.PATH_LEXICAL), fileRecord('/a/b/../c')])));
    assert.equal((a as FileEvent).path, '/a/c/d');
    assert.equal((b as FileEvent).path, '/a/b/../c', 'a resolved path is never rewritten');
    assert.equal(cleanLexicalPath('/x//y/'), '/x/y');
    assert.equal(cleanLexicalPath('/..'), '/');
  });

  it('counts a truncated batch as malformed and keeps what came before', () => {
    const d = new Decoder();
    const whole = fileRecord('/ok');
    const cut = fileRecord('/cut/short').subarray(0, 60);
    const evs = d.decodeBatch(ab(Buffer.concat([whole, cut])));
    assert.equal(evs.length, 1);
    assert.equal(d.stats.malformed, 1);
  });

  it('counts a string that runs past its record as malformed', () => {
    const d = new Decoder();
    const r = fileRecord('/abc');
    r.writeUInt16LE(500, File.path_len);
    assert.deepEqual(d.decodeBatch(ab(r)), []);
    assert.equal(d.stats.malformed, 1);
  });

  it('counts a record shorter than its kind\'s fixed part as malformed, every kind, and goes on', () => {
    const d = new Decoder();
    const kinds = Object.values(EventKind);
    // 64 bytes: the header and proc_ctx, none of the kind's own fields (every kind has some)
    const evs = d.decodeBatch(ab(Buffer.concat([...kinds.map((k) => record(k, Hdr.SIZE + Proc.SIZE)), fileRecord('/after')])));
    assert.deepEqual(evs.map((e) => (e as FileEvent).path), ['/after']);
    assert.deepEqual(d.stats, { records: 1, malformed: kinds.length, unknownKind: 0 });
    // shorter than proc_ctx, last in the batch: nothing is read past the record (a RangeError here stopped the batch)
    const tiny = record(EventKind.open, Hdr.SIZE + PROC);
    const d2 = new Decoder();
    assert.deepEqual(d2.decodeBatch(ab(Buffer.concat([fileRecord('/before'), tiny]))).length, 1);
    assert.deepEqual(d2.stats, { records: 1, malformed: 1, unknownKind: 0 });
  });

  it('skips unknown kinds (a newer kernel object) without losing the next record', () => {
    const d = new Decoder();
    const odd = fileRecord('/x');
    odd.writeUInt8(200, Hdr.kind);
    const evs = d.decodeBatch(ab(Buffer.concat([odd, fileRecord('/y')])));
    assert.equal(evs.length, 1);
    assert.equal((evs[0] as FileEvent).path, '/y');
    assert.equal(d.stats.unknownKind, 1);
  });

  it('formats IPv6 per RFC 5952', () => {
    const v6 = (s: string): Buffer => {
      const words = s.split(':').map((w) => parseInt(w || '0', 16));
      const b = Buffer.alloc(16);
      words.forEach((w, i) => b.writeUInt16BE(w, i * 2));
      return b;
    };
    assert.equal(ipv6(v6('0:0:0:0:0:0:0:1'), 0), '::1');
    assert.equal(ipv6(v6('2001:db8:0:0:1:0:0:1'), 0), '2001:db8::1:0:0:1');
    assert.equal(ipv6(v6('fe80:0:0:0:0:0:0:0'), 0), 'fe80::');
    assert.equal(ipv6(v6('2001:db8:1:2:3:4:5:6'), 0), '2001:db8:1:2:3:4:5:6');
    const mapped = Buffer.alloc(16);
    mapped.writeUInt16BE(0xffff, 10);
    mapped.set([10, 0, 0, 1], 12);
    assert.equal(ipv6(mapped, 0), '::ffff:10.0.0.1');
  });

  describe('the issue 11 records', () => {
    it('a memfd name that fills its field (no NUL) is read to the field\'s end, not past it', () => {
      const b = record(EventKind.memfd, Memfd.SIZE);
      b.fill('A', Memfd.name, Memfd.name + Memfd.NAME);
      b.writeUInt32LE(3, Memfd.flags);
      const [e] = new Decoder().decodeBatch(ab(Buffer.concat([b, record(EventKind.memfd, Memfd.SIZE)]))) as MemfdEvent[];
      assert.equal(e.name, 'A'.repeat(Memfd.NAME));
      assert.equal(e.memfdFlags, 3);
    });

    it("a BPF program name of 16 bytes (the kernel's field, no NUL) stays 16 bytes", () => {
      const b = record(EventKind.bpf, Bpf.SIZE);
      b.write('x'.repeat(16), Bpf.prog_name);
      b.writeUInt32LE(2, Bpf.prog_type);
      const [e] = new Decoder().decodeBatch(ab(b)) as BpfEvent[];
      assert.deepEqual([e.progName, e.progType], ['x'.repeat(16), 2]);
    });

    it('dup: an IPv6 peer in RFC 5952 form, and no address for a family without one', () => {
      const b = record(EventKind.dup, SockFd.SIZE);
      b.writeUInt16LE(10, SockFd.family);
      b.writeUInt8(1, SockFd.addr + 15);
      b.writeUInt16LE(4444, SockFd.port);
      b.writeInt32LE(0, SockFd.ret);
      const u = record(EventKind.bind, SockFd.SIZE);
      u.writeUInt16LE(1, SockFd.family);
      const [e, f] = new Decoder().decodeBatch(ab(Buffer.concat([b, u]))) as SockFdEvent[];
      assert.deepEqual([e.addr, e.port, e.ret], ['::1', 4444, 0]);
      assert.equal(f.addr, '', 'AF_UNIX: no inet address');
    });

    it('chown/setxattr: a path and a name whose lengths run past the record are counted as malformed', () => {
      const tail = Buffer.from('/etc/passwdsecurity.capability');
      const ok = record(EventKind.setxattr, Attr.SIZE, tail);
      ok.writeUInt16LE(11, Attr.path_len);
      ok.writeUInt16LE(19, Attr.name_len);
      const bad = record(EventKind.chown, Attr.SIZE, Buffer.from('/x'));
      bad.writeUInt16LE(500, Attr.path_len);
      const d = new Decoder();
      const evs = d.decodeBatch(ab(Buffer.concat([ok, bad]))) as AttrEvent[];
      assert.deepEqual([evs.length, evs[0].path, evs[0].name], [1, '/etc/passwd', 'security.capability']);
      assert.equal(d.stats.malformed, 1);
    });

    it('exec: the cwd after exe and args; a cut one (bit 15) is unknown, not a wrong directory', () => {
      const tail = Buffer.from('/bin/shsh\0-c/work');
      const mk = (cwdLen: number): Buffer => {
        const b = record(EventKind.exec, Exec.SIZE, tail);
        b.writeUInt16LE(7, Exec.exe_len);
        b.writeUInt16LE(5, Exec.args_len);
        b.writeUInt16LE(cwdLen, Exec.cwd_len);
        return b;
      };
      const [a, c] = new Decoder().decodeBatch(ab(Buffer.concat([mk(5), mk(5 | EXEC_CWD_CUT)]))) as ExecEvent[];
      assert.deepEqual([a.exe, a.args, a.cwd], ['/bin/sh', ['sh', '-c'], '/work']);
      assert.equal(c.cwd, null);
    });
  });
});
