// Compiled matchers, the per-kind index, and the enforcement mode of each rule.
import * as assert from 'node:assert/strict';
import type { ExecEvent, FileEvent, KernelEvent } from '../../../agent/decode/events';
import { BinTest, BinWho, ExeFlag, RuleCond } from '../../../agent/kernel/abi';
import { compileGlob } from '../../../agent/rules/glob';
import { RuleSet, type EvalContext } from '../../../agent/rules/compile';
import { buildKernelPlan } from '../../../agent/enforce/kernel-plan';
import { WorkloadTable } from '../../../agent/workload/workload-table';
import { loadRuleSources } from '../../../agent/rules/load';
import { pathHash, prefixDepth } from '../../../agent/enforce/path-hash';

function rules(text: string): RuleSet {
  return new RuleSet(loadRuleSources([{ name: 't.yaml', text }]));
}

function openEvent(p: string, flags = 0, uid = 0): FileEvent {
  return {
    kind: 'open', flags: 0, ktimeNs: 1n, pid: 10, tid: 10, uid, gid: 0, cgroupId: 1, comm: 'x', workload: 0, procFlags: 0,
    ret: 3, openFlags: flags, mode: 0, path: p, newPath: '', syscallNr: 257, rule: 0,
  };
}

function execEvent(exe: string, exeFlags = 0): ExecEvent {
  return {
    kind: 'exec', flags: 0, ktimeNs: 1n, pid: 10, tid: 10, uid: 0, gid: 0, cgroupId: 1, comm: 'x', workload: 0, procFlags: 0,
    ppid: 1, exe, args: [exe], argc: 1, startNs: 1n, exeIno: 5n, exeDev: 7, exeCtimeNs: 0n, rule: 0, exeFlags,
  };
}

function ctx(ev: KernelEvent, over: Partial<EvalContext> = {}): EvalContext {
  return { ev, exe: '/usr/bin/cat', args: ['cat'], parentExe: '/usr/bin/bash', spiffeId: null, destSpiffeId: null, ...over };
}

describe('rule compiler', () => {
  it('globs: * within a segment, ** across, ? one character', () => {
    assert.equal(compileGlob('/etc/*.conf').test('/etc/a.conf'), true);
    assert.equal(compileGlob('/etc/*.conf').test('/etc/x/a.conf'), false);
    assert.equal(compileGlob('/var/**/log').test('/var/a/b/log'), true);
    assert.equal(compileGlob('/var/**/log').test('/var/log'), true);
    assert.equal(compileGlob('/tmp/?.sh').test('/tmp/a.sh'), true);
    assert.equal(compileGlob('/tmp/?.sh').test('/tmp/ab.sh'), false);
    assert.equal(compileGlob('/a+b/(x)').test('/a+b/(x)'), true, 'regex characters are literal');
    // "/**/name" is a suffix test: the same answers as the general form
    for (const [p, want] of [['/nginx', true], ['/usr/sbin/nginx', true], ['/usr/sbin/xnginx', false], ['/usr/sbin/nginx/x', false], ['nginx', false]] as const) {
      assert.equal(compileGlob('/**/nginx').test(p), want, p);
      assert.equal(compileGlob('/**/nginx').test(p), new RegExp('^/(?:.*/)?nginx$').test(p), p);
    }
  });

  it('string matchers: in, not_in, prefix, glob, all of them must hold', () => {
    const rs = rules(`rules:
  - name: r
    on: open
    match: { path: { prefix: [/etc/], not_in: [/etc/hostname] } }
`);
    assert.equal(rs.evaluate(ctx(openEvent('/etc/shadow'))).length, 1);
    assert.equal(rs.evaluate(ctx(openEvent('/etc/hostname'))).length, 0);
    assert.equal(rs.evaluate(ctx(openEvent('/tmp/x'))).length, 0);
  });

  it('the index stays right past its memory of keys (a flood of unique paths)', () => {
    const rs = rules(`rules:
  - name: under-etc
    on: open
    match: { path: { prefix: [/etc/] } }
  - name: shadow
    on: open
    match: { path: { in: [/etc/shadow] } }
`);
    for (let i = 0; i < 10000; i++) {
      const p = i % 3 === 0 ? `/etc/x${i}` : i % 3 === 1 ? `/tmp/x${i}` : '/etc/shadow';
      const want = p.startsWith('/etc/') ? (p === '/etc/shadow' ? ['under-etc', 'shadow'] : ['under-etc']) : [];
      assert.deepEqual(rs.evaluate(ctx(openEvent(p))).map((m) => m.rule.name), want, p);
    }
  });

  it('flags, uid, args, parent binary, workload', () => {
    const rs = rules(`rules:
  - name: w
    workload: [spiffe://td/ns/a/**, host]
    on: open
    match:
      flags: { any: [write, trunc] }
      uid: { not_in: [1000] }
      args: { contains: [--secret] }
      parent_binary: { in: [/usr/bin/bash] }
`);
    const base = { args: ['cat', '--secret=1'] as string[], spiffeId: 'spiffe://td/ns/a/sa/x' };
    assert.equal(rs.evaluate(ctx(openEvent('/x', 0o1), base)).length, 1, 'O_WRONLY is write');
    assert.equal(rs.evaluate(ctx(openEvent('/x', 0o0), base)).length, 0, 'O_RDONLY is not');
    assert.equal(rs.evaluate(ctx(openEvent('/x', 0o1000), base)).length, 1, 'O_TRUNC');
    assert.equal(rs.evaluate(ctx(openEvent('/x', 0o1, 1000), base)).length, 0, 'uid 1000 excluded');
    assert.equal(rs.evaluate(ctx(openEvent('/x', 0o1), { ...base, args: ['cat'] })).length, 0);
    assert.equal(rs.evaluate(ctx(openEvent('/x', 0o1), { ...base, parentExe: '/usr/bin/sh' })).length, 0);
    assert.equal(rs.evaluate(ctx(openEvent('/x', 0o1), { ...base, spiffeId: 'spiffe://td/ns/b/sa/x' })).length, 0);
    assert.equal(rs.evaluate(ctx(openEvent('/x', 0o1), { ...base, spiffeId: null })).length, 1, 'host');
  });

  it('args: contains, icontains (any case, either side), prefix; parent_args on the parent\'s', () => {
    const rs = rules(`rules:
  - name: keys
    on: open
    match: { args: { icontains: [begin private] } }
  - name: opt
    on: open
    match: { args: { prefix: [-e, --exec] } }
  - name: both
    on: open
    match: { args: { contains: [x], prefix: [-c] } }
  - name: parent
    on: open
    match: { parent_args: { contains: [--sh-exec] } }
`);
    const fired = (over: Partial<EvalContext>): string[] => rs.evaluate(ctx(openEvent('/x'), over)).map((m) => m.rule.name);
    assert.deepEqual(fired({ args: ['grep', '-r', 'BEGIN PRIVATE KEY', '/'] }), ['keys']);
    assert.deepEqual(fired({ args: ['grep', 'BeGiN pRiVaTe'] }), ['keys'], 'any mix of case');
    assert.deepEqual(fired({ args: ['grep', 'BEGIN', 'PRIVATE'] }), [], 'one argument must hold it all');
    assert.deepEqual(fired({ args: ['nc', '-e/bin/sh', 'h', '1'] }), ['opt']);
    assert.deepEqual(fired({ args: ['nc', '--crlf', 'h', '1'] }), [], '"--crlf" does not start with "-c" or "-e"');
    assert.deepEqual(fired({ args: ['ncat', '--exec', 'sh'] }), ['opt']);
    assert.deepEqual(fired({ args: ['sh', '-c', 'x'] }), ['both'], 'both keys hold, on different arguments');
    assert.deepEqual(fired({ args: ['sh', '-c', 'y'] }), [], 'contains fails');
    assert.deepEqual(fired({ args: null }), [], 'unknown arguments match nothing');
    assert.deepEqual(fired({ args: ['cat'], parentArgs: ['ncat', '--sh-exec', 'cat'] }), ['parent']);
    assert.deepEqual(fired({ args: ['ncat', '--sh-exec', 'cat'], parentArgs: null }), [], 'parent_args looks at the parent only');
  });

  it('name: the process name, not the binary (busybox applets, links)', () => {
    const rs = rules(`rules:
  - name: nc
    on: exec
    match: { name: { in: [nc, ncat] } }
  - name: mkfs
    on: exec
    match: { name: { glob: ["mkfs*"] } }
`);
    const exec = { ...openEvent('/x'), kind: 'exec' } as unknown as KernelEvent;
    const fired = (over: Partial<EvalContext>): string[] => rs.evaluate(ctx(exec, over)).map((m) => m.rule.name);
    assert.deepEqual(fired({ exe: '/bin/busybox', name: 'nc' }), ['nc']);
    assert.deepEqual(fired({ exe: '/usr/bin/nc', name: 'x' }), [], 'the name decides, not the binary');
    assert.deepEqual(fired({ name: 'mkfs.ext4' }), ['mkfs']);
    assert.deepEqual(fired({ name: null }), [], 'unknown: no match');
  });

  it('ancestor_binary: any ancestor, computed only when a rule asks', () => {
    let asked = 0;
    const chain = (...exes: string[]) => () => {
      asked++;
      return exes;
    };
    const rs = rules(`rules:
  - name: web-shell
    on: exec
    match: { binary: { in: [/bin/sh] }, ancestor_binary: { in: [/usr/sbin/nginx] } }
    exceptions:
      - name: from-cron
        match: { ancestor_binary: { prefix: [/usr/sbin/cron] } }
`);
    const exec = { ...openEvent('/x'), kind: 'exec' } as unknown as KernelEvent;
    const fired = (over: Partial<EvalContext>): string[] => rs.evaluate(ctx(exec, over)).filter((m) => !m.exemptedBy).map((m) => m.rule.name);
    assert.deepEqual(fired({ exe: '/bin/sh', ancestors: chain('/usr/bin/php', '/usr/sbin/nginx', '/sbin/init') }), ['web-shell'], 'a grandparent');
    assert.deepEqual(fired({ exe: '/bin/sh', ancestors: chain('/usr/sbin/nginx', '/usr/sbin/cron') }), [], 'exempted: cron is an ancestor too');
    assert.deepEqual(fired({ exe: '/bin/sh', ancestors: chain('/usr/bin/bash') }), []);
    assert.deepEqual(fired({ exe: '/bin/sh' }), [], 'no lineage known: no match');
    // a rule the index cannot leave out (a name): its cheap conditions are tested before the lineage
    const byName = rules(`rules:
  - name: named-shell-below-nginx
    on: exec
    match: { ancestor_binary: { in: [/usr/sbin/nginx] }, name: { in: [sh] } }
`);
    const before = asked;
    assert.equal(byName.evaluate(ctx(exec, { name: 'ls', ancestors: chain('/usr/sbin/nginx') })).length, 0);
    assert.equal(asked, before, 'the lineage is not looked up when the name already fails');
    assert.equal(byName.evaluate(ctx(exec, { name: 'sh', ancestors: chain('/usr/sbin/nginx') })).length, 1);
    assert.equal(asked, before + 1);
  });

  it('the kernel filters opens by the directories of globs and prefixes for rules it only reports for; kills stay exact', () => {
    const rs = rules(`rules:
  - name: keys
    on: open
    match: { path: { glob: ["/root/.ssh/**", "/home/*/.ssh/**"] } }
  - name: narrowed
    on: open
    match: { path: { prefix: [/etc/], glob: ["/etc/cron*"] } }
  - name: anywhere
    on: open
    match: { path: { glob: ["/**/release_agent"] } }
  - name: kill-glob
    on: open
    match: { path: { glob: ["/etc/*.conf"] } }
    action: kill
`);
    const kp = (n: string) => rs.rules.find((r) => r.name === n)?.kernelPaths;
    assert.deepEqual(kp('keys'), { exact: [], prefixes: ['/root/.ssh/', '/home/'] });
    assert.deepEqual(kp('narrowed'), { exact: [], prefixes: ['/etc/'] });
    assert.equal(kp('anywhere'), null, 'a file name anywhere: the kernel would have to send every open');
    const kill = rs.rules.find((r) => r.name === 'kill-glob');
    assert.equal(kill?.enforcement, 'user-kill', 'a glob is never killed in the kernel');
    assert.deepEqual(kill?.kernelPaths, { exact: [], prefixes: ['/etc/'] }, 'reported from /etc/ for user space to judge');
    // user space still decides: the filter only narrows what the kernel sends
    assert.equal(rs.evaluate(ctx(openEvent('/home/alice/notes'))).length, 0);
    assert.deepEqual(rs.evaluate(ctx(openEvent('/home/alice/.ssh/id_rsa'))).map((m) => m.rule.name), ['keys']);
  });

  it('image and image_digest: the workload image, names compared in full', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const rs = rules(`rules:
  - name: by-name
    on: open
    match: { image: { in: [nginx] } }
  - name: by-registry
    on: open
    match: { image: { prefix: [registry.example.org/] } }
  - name: untrusted
    on: open
    match: { image_digest: { not_in: ["${digest}"] } }
`);
    const fired = (over: Partial<EvalContext>): string[] => rs.evaluate(ctx(openEvent('/x'), over)).map((m) => m.rule.name);
    assert.deepEqual(fired({ image: { name: 'docker.io/library/nginx', tag: '1.25', digest } }), ['by-name']);
    assert.deepEqual(fired({ image: { name: 'nginx', tag: null, digest } }), ['by-name'], 'a short name from the identities file is the same image');
    assert.deepEqual(fired({ image: { name: 'registry.example.org/team/api', tag: null, digest: `sha256:${'b'.repeat(64)}` } }), ['by-registry', 'untrusted']);
    assert.deepEqual(fired({ image: null }), ['untrusted'], 'unknown image: only not_in holds (as for binaries)');
  });

  it('the index gives the same answers as checking every rule', () => {
    let text = 'rules:\n';
    const paths = ['/etc/shadow', '/etc/sudoers', '/usr/bin/', '/usr/sbin/', '/var/lib/', '/root/.ssh/', '/etc/ssl/'];
    for (let i = 0; i < 300; i++) {
      const p = paths[i % paths.length];
      const m = p.endsWith('/') ? `prefix: [${p}${i % 3 === 0 ? `d${i}/` : ''}]` : i % 2 ? `in: [${p}${i}]` : `glob: ["${p}*"]`;
      text += `  - name: r${i}\n    on: open\n    match: { path: { ${m} } }\n`;
    }
    text += '  - name: any-open\n    on: open\n    match: { uid: [7] }\n';
    const rs = rules(text);
    const probes = ['/etc/shadow', '/etc/shadow3', '/etc/sudoers1', '/usr/bin/x', '/usr/bin/d0/x', '/var/lib/y', '/root/.ssh/k', '/nope', '/etc/ssl/certs/a'];
    for (const p of probes) {
      for (const uid of [0, 7]) {
        const c = ctx(openEvent(p, 0, uid));
        const viaIndex = rs.evaluate(c).map((m) => m.rule.name);
        const brute = rs.rules.filter((r) => r.kind === 'open' && r.test(c)).map((r) => r.name);
        assert.deepEqual(viaIndex, brute, `${p} uid ${uid}`);
      }
    }
  });

  it('enforcement modes: kernel where every condition is a kernel condition, user space otherwise', () => {
    const rs = rules(`lists:
  shells: [/usr/bin/dash]
rules:
  - { name: a, on: exec, match: { binary: { in: $shells } }, action: kill }
  - { name: b, on: exec, match: { binary: { in: $shells }, parent_binary: { in: [/x] } }, action: kill }
  - { name: b2, on: exec, match: { binary: { in: $shells }, parent_binary: { prefix: [/usr/] } }, action: kill }
  - { name: b3, on: exec, match: { binary: { not_in: $shells } }, action: kill, exceptions: [{ name: x, match: { parent_binary: { in: [/usr/bin/make] }, binary: { in: [/bin/sh] } } }] }
  - { name: b4, on: exec, match: { fileless: true }, action: kill }
  - { name: b5, on: exec, match: { binary: { in: $shells }, args: { contains: [-c] } }, action: kill }
  - { name: b6, on: open, match: { path: { in: [/etc/shadow] } }, action: kill, exceptions: [{ name: x, match: { binary: { in: [/usr/sbin/sshd] } } }] }
  - { name: b7, on: open, match: { path: { in: [/etc/shadow] } }, action: kill, exceptions: [{ name: x, match: {} }] }
  - { name: b8, on: ptrace, match: { parent_binary: { in: [/x] } }, action: kill }
  - { name: c, on: open, match: { path: { prefix: [/usr/bin/] }, flags: { any: [write] } }, action: kill }
  - { name: d, on: open, match: { path: { prefix: [/usr/bi] } }, action: kill }
  - { name: e, on: ptrace, action: kill }
  - { name: f, on: setuid, match: { uid: [0] }, action: kill }
  - { name: g, on: connect, match: { destination: { port: [22] } }, action: deny }
  - { name: h, on: exec, action: alert }
  - { name: i, on: open, match: { path: { in: [/etc/shadow] } }, action: kill, exceptions: [{ name: x, match: { uid: [0] } }] }
`);
    const modes = Object.fromEntries(rs.rules.map((r) => [r.name, r.enforcement]));
    assert.deepEqual(modes, {
      a: 'kernel-kill',
      b: 'kernel-kill',
      b2: 'user-kill',
      b3: 'kernel-kill',
      b4: 'kernel-kill',
      b5: 'user-kill',
      b6: 'kernel-kill',
      b7: 'user-kill',
      b8: 'user-kill',
      c: 'kernel-kill',
      d: 'user-kill',
      e: 'kernel-kill',
      f: 'user-kill',
      g: 'kernel-deny',
      h: 'alert',
      i: 'user-kill',
    });
    const why = Object.fromEntries(rs.rules.map((r) => [r.name, r.enforcementWhy]));
    assert.equal(why.b2, 'user-space kill (pidfd): match.parent_binary: the kernel checks in or not_in lists of binaries only');
    assert.equal(why.b5, 'user-space kill (pidfd): match.args is evaluated in user space');
    assert.equal(why.b7, 'user-space kill (pidfd): exception "x" exempts every event');
    assert.equal(why.i, 'user-space kill (pidfd): exception "x": uid is evaluated in user space');
    assert.equal(why.b3, 'SIGKILL from the kernel at exec: the new program never runs; its binary conditions and exceptions are checked there');
    // what the kernel is given
    const cond = (n: string) => rs.rules.find((r) => r.name === n)?.kernelCond;
    assert.equal(cond('a'), null, 'no condition besides the key: a plain kernel kill');
    assert.deepEqual(cond('b'), { key: 'paths', tests: [{ who: 'parent', names: ['/x'], negate: false }], exceptions: [] });
    assert.deepEqual(cond('b3'), {
      key: 'any',
      tests: [{ who: 'self', names: ['/usr/bin/dash'], negate: true }],
      exceptions: [[{ who: 'parent', names: ['/usr/bin/make'], negate: false }, { who: 'self', names: ['/bin/sh'], negate: false }]],
    });
    assert.deepEqual(cond('b4'), { key: 'any', tests: [{ who: 'fileless', names: [], negate: false }], exceptions: [] });
  });

  it('too many conditions for the kernel: user space, saying why', () => {
    const five = [1, 2, 3, 4, 5].map((i) => `{ name: e${i}, match: { parent_binary: { in: [/p${i}] } } }`).join(', ');
    const rs = rules(`rules:
  - { name: many-exceptions, on: exec, match: { binary: { in: [/bin/sh] } }, action: kill, exceptions: [${five}] }
  - { name: three-tests, on: exec, match: { binary: { not_in: [/a] }, parent_binary: { in: [/b] }, fileless: true }, action: kill }
  - { name: three-in-exception, on: exec, match: { binary: { in: [/x] } }, action: kill, exceptions: [{ name: e, match: { binary: { in: [/c] }, parent_binary: { in: [/d] }, fileless: true } }] }
`);
    const why = Object.fromEntries(rs.rules.map((r) => [r.name, `${r.enforcement}: ${r.enforcementWhy}`]));
    assert.deepEqual(why, {
      'many-exceptions': 'user-kill: user-space kill (pidfd): more than 4 exceptions',
      'three-tests': 'user-kill: user-space kill (pidfd): more than 2 binary conditions',
      'three-in-exception': 'user-kill: user-space kill (pidfd): exception "e" has more than 2 conditions',
    });
  });

  it('a binary by any other name: in and not_in look at the names rules give the same file (aliases), prefixes at the path only', () => {
    const rs = rules(`rules:
  - { name: shells, on: exec, match: { binary: { in: [/usr/bin/dash] } } }
  - { name: not-shells, on: exec, match: { binary: { not_in: [/usr/bin/dash] } } }
  - { name: under-usr, on: exec, match: { binary: { prefix: [/usr/] } } }
  - { name: from-make, on: exec, match: { parent_binary: { in: [/usr/bin/make] } } }
`);
    const names = (c: EvalContext): string[] => rs.evaluate(c).map((m) => m.rule.name);
    // a hard link at /tmp/x to dash: the exec path is /tmp/x, the file is dash
    assert.deepEqual(names(ctx(execEvent('/tmp/x'), { exe: '/tmp/x', parentExe: '/usr/bin/sh' })), ['not-shells']);
    assert.deepEqual(names(ctx(execEvent('/tmp/x'), { exe: '/tmp/x', exeAliases: ['/usr/bin/dash'], parentExe: '/usr/bin/sh' })), ['shells']);
    assert.deepEqual(names(ctx(execEvent('/tmp/x'), { exe: '/tmp/x', parentExe: '/tmp/m', parentAliases: ['/usr/bin/make'] })), ['not-shells', 'from-make']);
    assert.deepEqual(rs.binaryNames(), ['/usr/bin/dash', '/usr/bin/make']);
  });

  it('fileless: an exec of a file with no link; never another kind', () => {
    const rs = rules(`rules:
  - { name: fl, on: exec, match: { fileless: true } }
  - { name: linked, on: exec, match: { fileless: false } }
`);
    const names = (c: EvalContext): string[] => rs.evaluate(c).map((m) => m.rule.name);
    assert.deepEqual(names(ctx(execEvent('/memfd:x (deleted)', ExeFlag.FILELESS | ExeFlag.MEMFD))), ['fl']);
    assert.deepEqual(names(ctx(execEvent('/usr/bin/true'))), ['linked']);
  });

  it('writable_layer: an exec of a file whose data is in an overlayfs upper layer; both values, on exec only; a kernel condition for kill rules', () => {
    const rs = rules(`rules:
  - { name: dropped, on: exec, match: { writable_layer: true } }
  - { name: image, on: exec, match: { writable_layer: false } }
  - { name: dropped-shell, on: exec, match: { writable_layer: true, name: { in: [sh] } } }
  - { name: opens, on: open, match: { path: { in: [/root/x] } } }
  - { name: kill-dropped, on: exec, match: { writable_layer: true }, action: kill, exceptions: [{ name: e, match: { parent_binary: { in: [/usr/bin/make] }, writable_layer: true } }] }
  - { name: kill-not-dropped, on: exec, match: { writable_layer: false, binary: { in: [/bin/sh] } }, action: kill }
`);
    const names = (c: EvalContext): string[] => rs.evaluate(c).map((m) => m.rule.name);
    assert.deepEqual(names(ctx(execEvent('/root/x', ExeFlag.UPPER))), ['dropped', 'kill-dropped']);
    assert.deepEqual(names(ctx(execEvent('/root/x', ExeFlag.UPPER), { name: 'sh' })), ['dropped', 'dropped-shell', 'kill-dropped']);
    assert.deepEqual(names(ctx(execEvent('/bin/busybox'))), ['image']);
    // fileless is not the writable layer (a memfd is on no overlay)
    assert.deepEqual(names(ctx(execEvent('/memfd:x (deleted)', ExeFlag.FILELESS | ExeFlag.MEMFD))), ['image']);
    const cond = (n: string) => rs.rules.find((r) => r.name === n);
    assert.equal(cond('kill-dropped')?.enforcement, 'kernel-kill');
    assert.deepEqual(cond('kill-dropped')?.kernelCond, {
      key: 'any',
      tests: [{ who: 'upper', names: [], negate: false }],
      exceptions: [[{ who: 'parent', names: ['/usr/bin/make'], negate: false }, { who: 'upper', names: [], negate: false }]],
    });
    assert.deepEqual(cond('kill-not-dropped')?.kernelCond, { key: 'paths', tests: [{ who: 'upper', names: [], negate: true }], exceptions: [] });
  });

  it('kernel plan: kill rules with conditions take slots of their workload and kind; past 16, user space (and urgent)', () => {
    let text = 'rules:\n';
    for (let i = 0; i < 17; i++) text += `  - { name: c${i}, workload: spiffe://td/w/a, on: exec, match: { binary: { in: [/bin/s${i}] }, parent_binary: { in: [/p] } }, action: kill }\n`;
    text += `  - { name: other, workload: spiffe://td/w/b, on: exec, match: { parent_binary: { not_in: [/p] } }, action: kill }\n`;
    const rs = rules(text);
    const table = new WorkloadTable();
    table.index('spiffe://td/w/a');
    table.index('spiffe://td/w/b');
    const plan = buildKernelPlan(rs, table, [], 1);
    assert.equal(plan.ruleConds.count, 17, '16 slots in a, one in b');
    assert.deepEqual(plan.notes, ['rule "c16": workload spiffe://td/w/a has more than 16 exec kill rules with conditions: this one is killed from user space there']);
    assert.equal(plan.urgentKinds, 1 << 1, 'exec records are urgent for the rule user space decides');
    assert.equal(plan.exeState, true, 'parent conditions need every exec\'s binary in task storage');
    assert.equal(plan.pathKinds & (1 << 1), 1 << 1, 'and its path hash');
    assert.equal(plan.killKinds & (1 << 1), 1 << 1, 'the whole-kind entry of "other" is looked up');
    assert.equal(plan.binSets.count, 1, 'one set for the one list {/p}: a member by path hash, none by identity (no such file here)');
    // rule_conds of "other": match = parent not in {/p}
    for (let i = 0; i < plan.ruleConds.count; i++) {
      const v = Buffer.from(plan.ruleConds.values.subarray(i * RuleCond.SIZE, (i + 1) * RuleCond.SIZE));
      if (v.readUInt32LE(RuleCond.rule) !== 18) continue;
      assert.deepEqual([v.readUInt8(RuleCond.match + BinTest.who), v.readUInt8(RuleCond.match + BinTest.negate)], [BinWho.parent, 1]);
    }
  });

  it('kernel plan: path entries per workload, depths, filters and refusals', () => {
    const rs = rules(`rules:
  - { name: a, workload: spiffe://td/w/a, on: open, match: { path: { prefix: [/usr/bin/] } }, action: kill }
  - { name: b, workload: spiffe://td/w/b, on: open, match: { path: { in: [/etc/shadow] } } }
  - { name: c, workload: spiffe://td/w/a, on: connect, match: { destination: { not_cidr: [10.0.0.0/8], port: [443] } }, action: deny }
`);
    const table = new WorkloadTable();
    table.index('spiffe://td/w/a');
    table.index('spiffe://td/w/b');
    const plan = buildKernelPlan(rs, table, [], 1);
    assert.equal(plan.scoped, true);
    assert.equal(plan.rules.count, 2, 'one prefix entry for a, one exact entry for b');
    assert.equal(plan.pathFilterKinds, 1 << 4, 'every open rule names paths: the kernel drops other opens');
    assert.equal(plan.killKinds, 1 << 4);
    assert.equal(plan.prefixDepths[4], 1 << 2, '/usr/bin/ is two directories deep');
    assert.equal(plan.netActive, true);
    assert.equal(plan.netRules.count, 1);
    assert.equal(plan.netPrefixes.count, 1, 'the not_cidr prefix');
    assert.equal(plan.urgentKinds, 0);
  });

  describe('a name put in place (link, symlink, rename) is judged by the open rules that forbid writes', () => {
    const rs = rules(`rules:
  - { name: no-writes, on: open, match: { path: { prefix: [/usr/local/bin/] }, flags: { any: [write, create] } }, action: kill }
  - { name: any-access, on: open, match: { path: { prefix: [/usr/local/bin/] } } }
  - { name: reads, on: open, match: { path: { prefix: [/usr/local/bin/] }, flags: { any: [read] } } }
  - { name: renames-from-bin, on: rename, match: { path: { prefix: [/usr/local/bin/] } } }
  - { name: link-new-name, on: link, match: { new_path: { prefix: [/etc/] } } }
  - name: installer-ok
    on: open
    match: { path: { prefix: [/opt/] }, flags: { any: [trunc] } }
    exceptions: [{ name: pkg, match: { binary: { in: [/usr/bin/dpkg] } } }]
`);
    const named = (ev: KernelEvent, over: Partial<EvalContext> = {}): string[] => rs.evaluate(ctx(ev, over)).filter((m) => !m.exemptedBy).map((m) => m.rule.name);
    const two = (kind: 'link' | 'symlink' | 'rename', p: string, np: string, flags = 0): FileEvent => ({ ...openEvent(p), kind, path: p, newPath: np, openFlags: flags });

    it('link, symlink and rename into the directory: the write rule, not the read or any-access ones', () => {
      assert.deepEqual(named(two('link', '/tmp/x', '/usr/local/bin/x')), ['no-writes']);
      assert.deepEqual(named(two('symlink', '/bin/sh', '/usr/local/bin/sh')), ['no-writes']);
      assert.deepEqual(named(two('rename', '/tmp/x', '/usr/local/bin/x')), ['no-writes']);
    });

    it('out of the directory is not a write there; the kind\'s own rules match as before', () => {
      assert.deepEqual(named(two('link', '/usr/local/bin/x', '/tmp/x')), []);
      assert.deepEqual(named(two('rename', '/usr/local/bin/x', '/tmp/x')), ['renames-from-bin']);
      assert.deepEqual(named(two('link', '/tmp/x', '/etc/cron.d/x')), ['link-new-name']);
    });

    it('RENAME_EXCHANGE: each name is the old and the new one, whichever comes first', () => {
      assert.deepEqual(named(two('rename', '/usr/local/bin/x', '/tmp/y', 2)), ['no-writes', 'renames-from-bin']);
      assert.deepEqual(named(two('rename', '/tmp/y', '/usr/local/bin/x', 2)), ['no-writes', 'renames-from-bin']);
      assert.deepEqual(named(two('rename', '/tmp/y', '/tmp/z', 2)), []);
    });

    it('exceptions still apply; the alert keeps the event as it happened', () => {
      const ev = two('rename', '/tmp/x', '/opt/tool', 0);
      assert.deepEqual(named(ev), ['installer-ok']);
      assert.deepEqual(named(ev, { exe: '/usr/bin/dpkg' }), []);
      assert.equal(ev.kind, 'rename', 'the event is not changed');
    });

    it('the kernel plan: link, symlink and rename are reported, judged by the open entries (create_active)', () => {
      const plan = buildKernelPlan(rs, new WorkloadTable(), [], 1);
      assert.equal(plan.createActive, true);
      assert.ok(plan.kinds.has('link') && plan.kinds.has('symlink') && plan.kinds.has('rename'));
      // symlink has no rule of its own: its path finds nothing, the new name decides
      assert.ok(plan.pathKinds & (1 << 16) && plan.pathFilterKinds & (1 << 16));
      // link has a user-space rule (new_path): not filtered by its own path
      assert.equal(plan.pathFilterKinds & (1 << 15), 0);
      const none = buildKernelPlan(rules(`rules:\n  - { name: r, on: open, match: { path: { in: [/etc/shadow] } } }\n`), new WorkloadTable(), [], 1);
      assert.equal(none.createActive, false, 'a read rule judges no link');
      assert.equal(none.kinds.has('link'), false);
    });
  });

  it('the path hash is the kernel\'s: FNV-1a over 8-byte words (fixed vectors)', () => {
    // vectors computed by the BPF program's algorithm, by hand, once
    assert.equal(pathHash(''), 0xcbf29ce484222325n);
    assert.equal(pathHash('/'), BigInt.asUintN(64, (0xcbf29ce484222325n ^ 0x2fn) * 0x100000001b3n));
    const w1 = Buffer.from('/etc/sha').readBigUInt64LE(0);
    const w2 = BigInt('0x' + Buffer.from('dow').reverse().toString('hex'));
    const h1 = BigInt.asUintN(64, (0xcbf29ce484222325n ^ w1) * 0x100000001b3n);
    assert.equal(pathHash('/etc/shadow'), BigInt.asUintN(64, (h1 ^ w2) * 0x100000001b3n));
    assert.equal(prefixDepth('/'), 0);
    assert.equal(prefixDepth('/etc/'), 1);
    assert.equal(prefixDepth('/usr/local/bin/'), 3);
  });
});
