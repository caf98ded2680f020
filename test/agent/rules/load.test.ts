// Rule errors: the exact file:line:col, the rule's name, what was expected,
// the source line with a ^, and nothing loaded.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RuleSet } from '../../../agent/rules/compile';
import { loadRuleFiles, loadRuleSources, RuleErrors } from '../../../agent/rules/load';

function errorOf(text: string, name = 'rules.yaml'): string {
  try {
    loadRuleSources([{ name, text }]);
  } catch (err) {
    assert.ok(err instanceof RuleErrors, `expected RuleErrors, got ${String(err)}`);
    return err.message;
  }
  assert.fail('the rules loaded, but they should not have');
}

describe('rules loader', () => {
  it('loads a valid file: lists, $references, defaults', () => {
    const spec = loadRuleSources([
      {
        name: 'ok.yaml',
        text: `lists:
  shells: [/bin/sh, /bin/bash]
rules:
  - name: no-shell
    workload: spiffe://prod.example.org/ns/payments/**
    on: exec
    match: { binary: { in: [$shells, /usr/bin/zsh] } }
    action: kill
  - name: etc
    on: open
    match: { path: { prefix: [/etc/] }, flags: { any: [write] } }
`,
      },
    ]);
    assert.equal(spec.rules.length, 2);
    const [a, b] = spec.rules;
    assert.deepEqual(a.match.binary?.in, ['/bin/sh', '/bin/bash', '/usr/bin/zsh']);
    assert.deepEqual(a.workload, { any: false, host: false, patterns: ['spiffe://prod.example.org/ns/payments/**'] });
    assert.equal(b.action, 'alert', 'default action');
    assert.equal(b.priority, 'warning', 'default priority');
    assert.equal(b.enabled, true);
    assert.deepEqual(b.workload, { any: true, host: false, patterns: [] });
  });

  it('unknown key in a rule', () => {
    assert.equal(
      errorOf(`rules:
  - name: r1
    on: exec
    mach: { binary: { in: [/bin/sh] } }
`),
      `rules.yaml:4:5: rule "r1": unknown key "mach" (expected name, description, workload, on, match, exceptions, action, priority, tags, enabled)
    mach: { binary: { in: [/bin/sh] } }
    ^`,
    );
  });

  it('wrong type', () => {
    assert.equal(
      errorOf(`rules:
  - name: r1
    on: exec
    enabled: maybe
`),
      `rules.yaml:4:14: rule "r1": enabled: expected true or false, got "maybe"
    enabled: maybe
             ^`,
    );
  });

  it('unknown list', () => {
    assert.equal(
      errorOf(`lists:
  shells: [/bin/sh]
rules:
  - name: r2
    on: exec
    match:
      binary: { in: $shell }
`),
      `rules.yaml:7:21: rule "r2": match.binary.in: unknown list "shell" (lists: shells)
      binary: { in: $shell }
                    ^`,
    );
  });

  it('invalid SPIFFE ID, with the reason', () => {
    assert.equal(
      errorOf(`rules:
  - name: r3
    workload: spiffe://Prod.example.org/ns/x
    on: exec
`),
      `rules.yaml:3:15: rule "r3": workload: invalid SPIFFE ID pattern "spiffe://Prod.example.org/ns/x": trust domain contains an invalid character 'P' at offset 9: only a-z, 0-9, ".", "-" and "_" are allowed
    workload: spiffe://Prod.example.org/ns/x
              ^`,
    );
  });

  it('impossible combination: deny where the kernel cannot deny', () => {
    assert.equal(
      errorOf(`rules:
  - name: r4
    on: open
    match: { path: { in: [/etc/shadow] } }
    action: deny
`),
      `rules.yaml:5:13: rule "r4": action deny: open events cannot be denied on this kernel (no BPF LSM): use kill (the process dies at the syscall) or alert
    action: deny
            ^`,
    );
  });

  it('impossible combination: a deny on connect that needs user space', () => {
    assert.match(
      errorOf(`rules:
  - name: r5
    on: connect
    match: { binary: { in: [/usr/bin/curl] }, destination: { port: [443] } }
    action: deny
`),
      /^rules\.yaml:4:12: rule "r5": action deny: a connect is refused in the kernel, which sees only the workload and the destination; match\.binary cannot be evaluated there/,
    );
  });

  it('a match key that does not apply to the kind', () => {
    assert.equal(
      errorOf(`rules:
  - name: r6
    on: exec
    match: { destination: { port: [22] } }
`),
      `rules.yaml:4:14: rule "r6": match.destination does not apply to exec events (exec rules can match binary, parent_binary, args, uid, name, ancestor_binary, parent_args, image, image_digest, tty, drift, cwd, fileless, writable_layer)
    match: { destination: { port: [22] } }
             ^`,
    );
  });

  it('malformed YAML', () => {
    assert.equal(
      errorOf(`rules:
  - name: r7
    on: [exec
`),
      `rules.yaml:4:1: malformed YAML: Flow sequence in block collection must be sufficiently indented and end with a ]
\n^`,
    );
  });

  it('a rule without a name is named by its position', () => {
    assert.match(errorOf(`rules:\n  - on: exec\n`), /^rules\.yaml:2:5: rule "#1": missing required key "name"/);
  });

  it('duplicate names, across files, point at the first definition', () => {
    let msg = '';
    try {
      loadRuleSources([
        { name: 'a.yaml', text: 'rules:\n  - name: dup\n    on: exec\n' },
        { name: 'b.yaml', text: 'rules:\n  - name: dup\n    on: open\n' },
      ]);
    } catch (err) {
      msg = (err as Error).message;
    }
    assert.match(msg, /^b\.yaml:2:11: rule "dup": duplicate rule name \(first defined at a\.yaml:2:11\)/);
  });

  it('reports every problem, and loads nothing', () => {
    let err: unknown;
    try {
      loadRuleSources([
        {
          name: 'many.yaml',
          text: `rules:
  - name: a
    on: teleport
  - name: b
    on: exec
    priority: urgent
  - name: good
    on: exec
`,
        },
      ]);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof RuleErrors);
    assert.equal(err.problems.length, 2);
    assert.match(err.problems[0], /^many\.yaml:3:9: rule "a": on: expected one of exec, open, unlink, rename, chmod, link, symlink, connect, ptrace, setuid, mount, module, migrate, socket, io_uring, chown, setxattr, namespace, bind, listen, dup, memfd, userfaultfd, bpf, got "teleport"/);
    assert.match(err.problems[1], /^many\.yaml:6:15: rule "b": priority: expected one of emergency, alert, critical, error, warning, notice, informational, debug, got "urgent"/);
  });

  it('loads directories in order, and says what is wrong with a path', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-rules-'));
    try {
      fs.writeFileSync(path.join(dir, '10-lists.yaml'), 'lists:\n  bins: [/usr/bin/nc]\n');
      fs.writeFileSync(path.join(dir, '20-rules.yml'), 'rules:\n  - name: nc\n    on: exec\n    match: { binary: { in: $bins } }\n');
      fs.writeFileSync(path.join(dir, 'README.md'), 'not rules');
      const spec = loadRuleFiles([dir]);
      assert.deepEqual(spec.files, [path.join(dir, '10-lists.yaml'), path.join(dir, '20-rules.yml')]);
      assert.deepEqual(spec.rules[0].match.binary?.in, ['/usr/bin/nc']);
      assert.throws(() => loadRuleFiles([path.join(dir, 'nope.yaml')]), /nope\.yaml: no such file or directory/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('lineage, names, images and command lines (issue 11)', () => {
    it('reads them, normalizing image names', () => {
      const spec = loadRuleSources([
        {
          name: 'r.yaml',
          text: `rules:
  - name: all
    on: exec
    match:
      name: { in: [nc, ncat], glob: ["n*"] }
      ancestor_binary: { prefix: [/usr/sbin/], not_in: [/usr/sbin/sshd] }
      args: { icontains: [BEGIN PRIVATE], prefix: [-e] }
      parent_args: { contains: [--exec] }
      image: { in: [nginx, me/app, "registry.example.org:5000/x/y", index.docker.io/library/redis] }
      image_digest: { in: ["sha256:${'0'.repeat(64)}"] }
`,
        },
      ]);
      const m = spec.rules[0].match;
      assert.deepEqual(m.name, { in: ['nc', 'ncat'], glob: ['n*'] });
      assert.deepEqual(m.ancestor_binary, { prefix: ['/usr/sbin/'], not_in: ['/usr/sbin/sshd'] });
      assert.deepEqual(m.args, { icontains: ['BEGIN PRIVATE'], prefix: ['-e'] });
      assert.deepEqual(m.parent_args, { contains: ['--exec'] });
      assert.deepEqual(m.image?.in, ['docker.io/library/nginx', 'docker.io/me/app', 'registry.example.org:5000/x/y', 'docker.io/library/redis']);
      assert.deepEqual(m.image_digest?.in, [`sha256:${'0'.repeat(64)}`]);
    });

    it('a process name longer than the kernel keeps never matches: refused, with the name it would be', () => {
      assert.equal(
        errorOf(`rules:
  - name: n
    on: exec
    match: { name: { in: [dpkg-preconfigure] } }
`),
          `rules.yaml:4:26: rule "n": match.name.in: "dpkg-preconfigure" is longer than 15 bytes, the most the kernel keeps of a process name: write "dpkg-preconfigu"
    match: { name: { in: [dpkg-preconfigure] } }
                         ^`,
      );
    });

    it('a path is not a process name', () => {
      assert.match(errorOf(`rules:
  - name: n
    on: exec
    match: { name: { in: [/usr/bin/nc] } }
`), /^rules\.yaml:4:26: rule "n": match\.name\.in: "\/usr\/bin\/nc" is not a process name \(a name has no "\/": match a path with binary\)/);
    });

    it('ancestor_binary: not_in alone is refused (it would hold for nearly every process)', () => {
      assert.match(
        errorOf(`rules:
  - name: a
    on: exec
    match: { ancestor_binary: { not_in: [/usr/sbin/sshd] } }
`),
        /^rules\.yaml:4:31: rule "a": match\.ancestor_binary: expected in, prefix or glob \(some ancestor is one of them\); for "no ancestor is X" put ancestor_binary: \{in: \[X\]\} in an exception/,
      );
      assert.match(errorOf(`rules:
  - name: a
    on: exec
    match: { ancestor_binary: { in: [sshd] } }
`), /match\.ancestor_binary\.in: "sshd" is not an absolute path/);
    });

    it('images: a tag or digest in a name, a malformed digest', () => {
      assert.match(errorOf(`rules:
  - name: i
    on: exec
    match: { image: { in: ["nginx:1.25"] } }
`), /match\.image\.in: "nginx:1\.25" is not an image name \(registry and repository, without tag or digest: match digests with image_digest\)/);
      assert.match(errorOf(`rules:
  - name: i
    on: exec
    match: { image: { in: ["Not An Image"] } }
`), /match\.image\.in: "Not An Image" is not an image name/);
      assert.match(errorOf(`rules:
  - name: i
    on: exec
    match: { image_digest: { in: ["sha256:ABC"] } }
`), /match\.image_digest\.in: "sha256:ABC" is not an image digest \(sha256: and 64 lowercase hex digits\)/);
    });

    it('an empty condition map says what it expects, at the map', () => {
      const first = (on: string, match: string): string => errorOf(`rules:\n  - name: e\n    on: ${on}\n    match: { ${match} }\n`).split('\n')[0];
      assert.equal(first('socket', 'family: {}'), 'rules.yaml:4:22: rule "e": match.family: expected in and/or not_in');
      assert.equal(first('exec', 'uid: {}'), 'rules.yaml:4:19: rule "e": match.uid: expected in and/or not_in');
      assert.equal(
        first('chmod', 'mode: {}'),
        'rules.yaml:4:20: rule "e": match.mode: expected any: [...] and/or all: [...] (setuid, setgid, sticky, executable, world_writable, world_readable, group_writable)',
      );
      assert.match(first('namespace', 'namespaces: {}'), /^rules\.yaml:4:26: rule "e": match\.namespaces: expected any: \[\.\.\.\] \(CLONE_NEWTIME, /);
      assert.equal(first('connect', 'destination: {}'), 'rules.yaml:4:27: rule "e": match.destination: expected at least one of cidr, not_cidr, port, workload, not_workload');
    });

    it('args: an empty map, an unknown key, an empty string', () => {
      assert.match(errorOf(`rules:
  - name: a
    on: exec
    match: { args: {} }
`), /match\.args: expected at least one of contains, icontains, prefix/);
      assert.match(errorOf(`rules:
  - name: a
    on: exec
    match: { args: { regex: [x] } }
`), /match\.args: unknown key "regex"/);
      assert.match(errorOf(`rules:
  - name: a
    on: exec
    match: { parent_args: { contains: [""] } }
`), /match\.parent_args\.contains: an empty string matches every argument/);
    });

    it('a kill on them is carried out in user space (the kernel sees none of them)', () => {
      const rs = new RuleSet(loadRuleSources([{ name: 'k.yaml', text: 'rules:\n  - name: k\n    on: exec\n    match: { name: { in: [nc] } }\n    action: kill\n' }]));
      assert.equal(rs.rules[0].enforcement, 'user-kill');
      assert.match(rs.rules[0].enforcementWhy, /match\.name is evaluated in user space/);
    });
  });
});
