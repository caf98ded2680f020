// The decoder's offsets are the C layout: compared field by field with
// offsetof()/sizeof() compiled from bpf/events.h into the addon.
import * as assert from 'node:assert/strict';
import * as abi from '../../../agent/kernel/abi';
import { native } from '../../../agent/kernel/native';

describe('event ABI: TypeScript offsets equal the C layout', () => {
  const layout = native().layout();
  const s = layout.structs;

  it('has the same ABI version', () => {
    assert.equal(layout.abiVersion, abi.ABI_VERSION);
  });

  it('event kinds and flags have the C numbers', () => {
    for (const k of Object.keys(abi.EventKind) as abi.AnyKindName[]) {
      assert.equal(abi.EventKind[k], layout.constants[`EV_${k.toUpperCase()}`], k);
    }
    assert.equal(abi.KIND_MAX, layout.constants.EV_KIND_MAX);
    for (const [name, bit] of Object.entries(abi.Flag)) assert.equal(bit, layout.constants[`EVF_${name}`], name);
    assert.equal(abi.Limits.COMM_LEN, layout.constants.VIGIL_COMM_LEN);
    assert.equal(abi.Limits.PATH_MAX, layout.constants.VIGIL_PATH_MAX);
    assert.equal(abi.Limits.ARGS_MAX, layout.constants.VIGIL_ARGS_MAX);
    assert.equal(abi.Limits.STR_MAX, layout.constants.VIGIL_STR_MAX);
    assert.equal(abi.Limits.RECORD_MAX, layout.constants.VIGIL_RECORD_MAX);
  });

  const check = (name: string, ts: Record<string, number>, base = 0): void => {
    const c = s[name];
    assert.ok(c, `native layout has no struct ${name}`);
    assert.equal(ts.SIZE, c.size, `sizeof(struct ${name})`);
    for (const [field, off] of Object.entries(c.fields)) {
      if (field === 'hdr' || field === 'proc') continue;
      assert.ok(field in ts, `abi.ts lacks ${name}.${field}`);
      assert.equal(ts[field] - base, off, `offsetof(struct ${name}, ${field})`);
    }
  };

  it('event_hdr', () => check('event_hdr', abi.Hdr));
  it('proc_ctx, at the same offset in every record', () => {
    check('proc_ctx', abi.Proc);
    assert.deepEqual(
      [abi.ProcFlag.ORIGIN, abi.ProcFlag.MOVED, abi.ProcFlag.INHERITED, abi.ProcFlag.TTY],
      [layout.constants.PF_ORIGIN, layout.constants.PF_MOVED, layout.constants.PF_INHERITED, layout.constants.PF_TTY],
    );
    for (const rec of ['exec_event', 'fork_event', 'exit_event', 'file_event', 'connect_event', 'priv_event', 'sys_event', 'attr_event', 'sockfd_event', 'memfd_event', 'bpf_event']) {
      assert.equal(s[rec].fields.proc, abi.PROC, `${rec}.proc`);
      assert.equal(s[rec].fields.hdr ?? 0, 0, `${rec}.hdr`);
    }
  });
  it('exec_event', () => check('exec_event', abi.Exec));
  it('fork_event', () => check('fork_event', abi.Fork));
  it('exit_event', () => check('exit_event', abi.Exit));
  it('file_event', () => check('file_event', abi.File));
  it('connect_event', () => check('connect_event', abi.Connect));
  it('priv_event', () => check('priv_event', abi.Priv));
  it('sys_event', () => check('sys_event', abi.Sys));
  it('cgroup_event', () => check('cgroup_event', abi.CgroupEv));
  it('migrate_event', () => check('migrate_event', abi.Migrate));
  it('socket_event', () => check('socket_event', abi.Socket));
  it('io_uring_event', () => check('io_uring_event', abi.IoUring));
  it('attr_event (chown, setxattr)', () => check('attr_event', abi.Attr));
  it('sockfd_event (bind, listen, dup)', () => check('sockfd_event', abi.SockFd));
  it('memfd_event', () => {
    check('memfd_event', abi.Memfd);
    assert.equal(abi.Memfd.NAME, layout.constants.MEMFD_NAME);
  });
  it('bpf_event', () => {
    check('bpf_event', abi.Bpf);
    assert.equal(abi.Bpf.NAME, layout.constants.BPF_PROG_NAME);
  });
  it('the constants of the issue 11 kinds', () => {
    assert.equal(abi.EXEC_CWD_CUT, layout.constants.EXEC_CWD_CUT);
    assert.equal(abi.CLONE_NEW_MASK, layout.constants.CLONE_NEW_MASK);
    assert.deepEqual([abi.UserfaultfdVia.SYSCALL, abi.UserfaultfdVia.DEV], [layout.constants.USERFAULTFD_VIA_SYSCALL, layout.constants.USERFAULTFD_VIA_DEV]);
  });
  it('rule and net map keys and values', () => {
    check('rule_key', abi.RuleKey);
    check('rule_val', abi.RuleVal);
    check('file_key', abi.FileKey);
    check('net_rule_key', abi.NetRuleKey);
    check('net_rule', abi.NetRule);
    check('net_prefix_key', abi.NetPrefixKey);
    assert.equal(abi.NET_SLOTS, layout.constants.NET_SLOTS);
    assert.equal(abi.NET_PORTS, layout.constants.NET_PORTS);
    assert.deepEqual(
      [abi.RuleMatch.exact, abi.RuleMatch.prefix, abi.RuleMatch.any, abi.RuleAction.report, abi.RuleAction.kill],
      [layout.constants.RM_EXACT, layout.constants.RM_PREFIX, layout.constants.RM_ANY, layout.constants.RA_REPORT, layout.constants.RA_KILL],
    );
    assert.deepEqual(
      [abi.KernelAccess.read, abi.KernelAccess.write, abi.KernelAccess.create, abi.KernelAccess.trunc],
      [layout.constants.ACC_READ, layout.constants.ACC_WRITE, layout.constants.ACC_CREATE, layout.constants.ACC_TRUNC],
    );
  });
  it('rules by file identity, sets of binaries, conditional kill rules', () => {
    check('file_key', abi.FileKey);
    check('bin_key', abi.BinKey);
    check('bin_test', abi.BinTest);
    check('cond_key', abi.CondKey);
    check('rule_cond', abi.RuleCond);
    assert.deepEqual(
      [abi.BinMember.hash, abi.BinMember.id, abi.BinWho.none, abi.BinWho.self, abi.BinWho.parent, abi.BinWho.fileless, abi.BinWho.upper],
      ['BIN_HASH', 'BIN_ID', 'WHO_NONE', 'WHO_SELF', 'WHO_PARENT', 'WHO_FILELESS', 'WHO_UPPER'].map((n) => layout.constants[n]),
    );
    assert.deepEqual([abi.COND_SLOTS, abi.COND_TESTS, abi.COND_EXCEPTIONS], [layout.constants.COND_SLOTS, layout.constants.COND_TESTS, layout.constants.COND_EXCEPTIONS]);
    assert.equal(abi.RuleCond.except - abi.RuleCond.match, abi.COND_TESTS * abi.BinTest.SIZE, 'the tests are one flat array: match, then the exceptions');
  });
  it('exe flags and task state', () => {
    check('task_state', abi.TaskState);
    for (const [name, bit] of Object.entries(abi.ExeFlag)) assert.equal(bit, layout.constants[`EXE_${name}`], name);
    for (const [name, bit] of Object.entries(abi.TaskFlag)) assert.equal(bit, layout.constants[`TS_${name}`], name);
  });
  it('kind_counters', () => check('kind_counters', abi.Counters));
  it('vigil_config', () => {
    check('vigil_config', abi.Config);
    assert.equal(abi.PREFIX_DEPTH_KINDS, layout.constants.PREFIX_DEPTH_KINDS);
    assert.ok(abi.KIND_MAX <= abi.PREFIX_DEPTH_KINDS, 'every kind has a prefix-depth slot');
  });
  it('cgroup_info', () => check('cgroup_info', abi.CgroupInfo));
  it('code_event and the code_seen key', () => {
    check('code_event', abi.Code);
    check('code_key', abi.CodeKey);
    assert.equal(s.code_event.fields.proc, abi.PROC);
    assert.deepEqual([abi.CodeHow.open, abi.CodeHow.mmap, abi.CodeHow.mprotect], [layout.constants.CODE_OPEN, layout.constants.CODE_MMAP, layout.constants.CODE_MPROTECT]);
  });

  it('notices a wrong offset (the check itself can fail)', () => {
    assert.throws(() => check('file_event', { ...abi.File, path_len: abi.File.path_len + 2 }), /offsetof\(struct file_event, path_len\)/);
  });
});
