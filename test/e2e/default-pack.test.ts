// The default rule pack (deploy/rules/default.yaml) on the real kernel: every
// rule is made to fire from inside a workload (a podman container with runc
// where a container matters, else a process in a workload cgroup on the
// host), and a benign twin of each trigger (the same tool used harmlessly,
// the same file read instead of written, the other port...) must not fire it.
// The agent runs the pack unchanged, with the identities of both workloads.
//
// Each trigger and twin has arguments of its own, so an alert is tied to the
// process that caused it by its command line (podman exec gives no pid).
// Rules whose event kinds are not on this branch yet are listed in
// docs/rules.md's detection table as waiting for them.
import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Alert } from '../../agent/export/alert';
import { repoRoot } from '../../common/repo';
import { AgentHarness } from '../helpers/agent';
import { ACTIONS_IN_IMAGE, Podman, type Container } from '../helpers/containers';
import { CgroupSandbox, helperBinary, requireKernelTestPrivileges, type CgroupHandle } from '../helpers/kernel';

const TD = 'spiffe://test.vigil/ns/pack';
const A = ACTIONS_IN_IMAGE;

/** Where a step runs: the container, a workload cgroup on the host, or the host itself (no workload). */
type Where = 'ctr' | 'wl' | 'host';

interface Step {
  where: Where;
  argv: string[];
  /** commands run first in the same place (their alerts are not looked at) */
  setup?: string[][];
  /** the alert's process args when they are not argv (a child that the step starts) */
  args?: string[];
  /** ctr: with a terminal (podman exec -t), as kubectl exec -it */
  tty?: boolean;
}

interface Case {
  rule: string;
  /** a second case for the same rule: another way in (its test is named "RULE (VARIANT)") */
  variant?: string;
  fire: Step;
  twin: Step;
}

/** The name of a case's test: the rule, and the variant if any. */
const label = (k: Case): string => (k.variant ? `${k.rule} (${k.variant})` : k.rule);

function show(as: Alert[]): string {
  return as.map((a) => `${a.rule} ${JSON.stringify(a.process.args)} ${a.process.exe} ${a.workload.spiffe_id}`).join('\n');
}

describe('the default pack on the real kernel: each rule fires from inside a workload, its benign twin does not', function () {
  this.timeout(240000);
  let pm: Podman;
  let sb: CgroupSandbox;
  let wl: CgroupHandle;
  let h: AgentHarness;
  let c: Container;
  let tmp: string;
  let shm: string;
  let actions: string;
  let python: string;
  let layerBusybox: string;
  let sleeper: { pid: number; child: { kill(sig: NodeJS.Signals): boolean } };
  /** a TCP server the reverse-shell step connects to */
  let listener: { server: net.Server; port: number };
  /** per case: the args each alert carries, and the exit status of each step (-1: killed, or no status) */
  const ran = new Map<Case, { fire: string[]; twin: string[]; codes: number[] }>();

  const cases = (): Case[] => [
    // ---- execution: shells and tools
    // an interactive shell (kubectl exec -it); the twin is the same shell without a terminal, as an exec probe runs it
    { rule: 'shell-in-workload', fire: { where: 'ctr', tty: true, argv: ['sh', '-c', 'exit 0'] }, twin: { where: 'ctr', argv: ['sh', '-c', 'exit 0 # probe'] } },
    {
      rule: 'renamed-shell-in-workload',
      fire: { where: 'wl', argv: [path.join(tmp, 'bin', 'looks-harmless'), '-c', 'exit 0'] },
      twin: { where: 'wl', argv: ['/usr/bin/dash', '-c', 'exit 0'] },
    },
    { rule: 'busybox-in-workload', fire: { where: 'ctr', argv: ['busybox', 'true'] }, twin: { where: 'ctr', argv: ['true', 'busybox-twin'] } },
    {
      rule: 'shell-from-server',
      fire: { where: 'wl', argv: [path.join(tmp, 'srv', 'nginx'), '-c', '/usr/bin/dash -c ": from nginx"; true'], args: ['/usr/bin/dash', '-c', ': from nginx'] },
      twin: { where: 'wl', argv: [path.join(tmp, 'srv', 'worker'), '-c', '/usr/bin/dash -c ": from worker"; true'], args: ['/usr/bin/dash', '-c', ': from worker'] },
    },
    {
      rule: 'system-user-interactive',
      fire: { where: 'wl', argv: [path.join(tmp, 'login', 'sshd'), '-c', '/usr/bin/setpriv --reuid=1 --regid=1 --clear-groups /usr/bin/id -u; true'], args: ['/usr/bin/id', '-u'] },
      twin: { where: 'wl', argv: [path.join(tmp, 'login', 'sshd'), '-c', '/usr/bin/setpriv --reuid=1000 --regid=1000 --clear-groups /usr/bin/id -g; true'], args: ['/usr/bin/id', '-g'] },
    },
    { rule: 'package-manager-in-workload', fire: { where: 'ctr', argv: ['dpkg', '-l'] }, twin: { where: 'ctr', argv: ['ls', '/', 'pm-twin'] } },
    { rule: 'network-tool-in-workload', fire: { where: 'ctr', argv: ['nc', '-w', '1', '127.0.0.1', '9'] }, twin: { where: 'ctr', argv: ['ls', '/', 'net-twin'] } },
    { rule: 'netcat-remote-exec', fire: { where: 'ctr', argv: ['nc', '-e', '/bin/true', '127.0.0.1', '9'] }, twin: { where: 'ctr', argv: ['nc', '-w', '1', '127.0.0.1', '10'] } },
    { rule: 'namespace-tool-in-workload', fire: { where: 'ctr', argv: ['nsenter', '-t', '1', '-m', 'true'] }, twin: { where: 'ctr', argv: ['ls', '/', 'ns-twin'] } },
    { rule: 'debugfs-in-workload', fire: { where: 'wl', argv: ['/usr/sbin/debugfs', '-V'] }, twin: { where: 'wl', argv: ['/usr/sbin/dumpe2fs', '-V'] } },
    {
      rule: 'remove-bulk-data',
      fire: { where: 'ctr', argv: ['shred', '-n', '1', '/tmp/victim'], setup: [[A, 'creat:/tmp/victim']] },
      twin: { where: 'ctr', argv: ['rm', '/tmp/victim'] },
    },
    { rule: 'search-private-keys', fire: { where: 'ctr', argv: ['grep', '-ri', 'begin rsa private', '/etc'] }, twin: { where: 'ctr', argv: ['grep', '-r', 'root', '/etc/passwd'] } },
    { rule: 'find-private-keys', fire: { where: 'ctr', argv: ['find', '/root', '-name', 'id_rsa'] }, twin: { where: 'ctr', argv: ['find', '/etc', '-name', 'passwd'] } },
    { rule: 'search-aws-credentials', fire: { where: 'ctr', argv: ['grep', '-ri', 'AWS_Secret_Access_Key', '/etc'] }, twin: { where: 'ctr', argv: ['grep', '-i', 'aws', '/etc/passwd'] } },
    { rule: 'find-aws-credentials', fire: { where: 'ctr', argv: ['find', '/root', '-path', '*/.aws/credentials'] }, twin: { where: 'ctr', argv: ['find', '/root', '-name', '.aws'] } },
    { rule: 'crontab-in-workload', fire: { where: 'ctr', argv: ['crontab', '/tmp/job'] }, twin: { where: 'ctr', argv: ['crontab', '-l'] } },
    { rule: 'crypto-miner-args', fire: { where: 'ctr', argv: [A, 'sleep:1', 'stratum+tcp://pool.example:3333'] }, twin: { where: 'ctr', argv: [A, 'sleep:1', 'https://pool.example:3333'] } },
    // ---- what runs
    {
      rule: 'drift-binary-exec',
      fire: { where: 'ctr', argv: ['/root/true'], setup: [['cp', '/bin/busybox', '/root/true']] },
      twin: { where: 'ctr', argv: ['true', 'drift-twin'] },
    },
    // a file changed after the workload started, not in a writable layer (a host workload's file); the twin: the container's
    // dropped binary above, which is drift-binary-exec's (the two never fire together)
    {
      rule: 'changed-binary-exec',
      fire: { where: 'wl', argv: [path.join(tmp, 'late', 'true'), 'changed-fire'], setup: [['/usr/bin/mkdir', '-p', path.join(tmp, 'late')], ['/usr/bin/cp', '/usr/bin/true', path.join(tmp, 'late', 'true')]] },
      twin: { where: 'ctr', argv: ['/root/true', 'changed-twin'] },
    },
    {
      rule: 'exec-from-tmp-in-workload',
      fire: { where: 'ctr', argv: ['/tmp/true'], setup: [['cp', '/bin/busybox', '/tmp/true']] },
      twin: { where: 'ctr', argv: ['/root/true', 'tmp-twin'] },
    },
    {
      rule: 'fileless-exec',
      fire: { where: 'wl', argv: [python, '-c', memfdExec('/usr/bin/true', 'fileless-fire', true)], args: ['fileless-fire'] },
      twin: { where: 'wl', argv: [python, '-c', memfdExec('/usr/bin/true', 'fileless-twin', false)], args: ['fileless-twin'] },
    },
    { rule: 'exec-from-dev-shm', fire: { where: 'wl', argv: [path.join(shm, 'true')] }, twin: { where: 'wl', argv: ['/usr/bin/true', 'shm-twin'] } },
    { rule: 'script-from-dev-shm', fire: { where: 'wl', argv: ['/usr/bin/dash', path.join(shm, 'x.sh')] }, twin: { where: 'wl', argv: ['/usr/bin/dash', path.join(tmp, 'x.sh')] } },
    { rule: 'host-exec-from-container-fs', fire: { where: 'host', argv: [layerBusybox, 'true'] }, twin: { where: 'host', argv: ['/bin/busybox', 'true', 'layer-twin'] } },
    // ---- files
    { rule: 'write-below-binary-dir', fire: { where: 'ctr', argv: ['touch', '/usr/local/bin/dropped'] }, twin: { where: 'ctr', argv: [A, 'open:/usr/local/bin/actions'] } },
    { rule: 'write-below-etc-in-workload', fire: { where: 'ctr', argv: ['touch', '/etc/changed'] }, twin: { where: 'ctr', argv: [A, 'open:/etc/passwd'] } },
    { rule: 'read-sensitive-file', fire: { where: 'ctr', argv: ['cat', '/etc/shadow'] }, twin: { where: 'ctr', argv: ['cat', '/etc/passwd'] } },
    // Falco's "Directory traversal monitored file read": the name with ../ reaches the rule as the file the kernel opened
    {
      rule: 'read-sensitive-file',
      variant: 'directory traversal',
      fire: { where: 'ctr', argv: ['cat', '/tmp/../etc/../etc/shadow'] },
      twin: { where: 'ctr', argv: ['cat', '/tmp/../etc/../etc/passwd'] },
    },
    // Falco's "Read sensitive file trusted after startup": a server (a program named nginx) reading it itself, not a tool it starts
    {
      rule: 'read-sensitive-file',
      variant: 'a server reading it',
      fire: { where: 'wl', argv: [path.join(tmp, 'srv', 'nginx'), '-c', 'read x < /etc/shadow; true'] },
      twin: { where: 'wl', argv: [path.join(tmp, 'srv', 'nginx'), '-c', 'read x < /etc/passwd; true'] },
    },
    {
      rule: 'read-sensitive-dir',
      fire: { where: 'ctr', argv: ['cat', '/etc/sudoers.d/admins'], setup: [[A, 'mkdir:/etc/sudoers.d', 'creat:/etc/sudoers.d/admins']] },
      twin: { where: 'ctr', argv: ['cat', '/etc/group'] },
    },
    {
      rule: 'read-ssh-keys',
      fire: { where: 'ctr', argv: ['cat', '/root/.ssh/id_rsa'], setup: [[A, 'mkdir:/root/.ssh', 'creat:/root/.ssh/id_rsa', 'creat:/root/notes']] },
      twin: { where: 'ctr', argv: ['cat', '/root/notes'] },
    },
    { rule: 'write-authorized-keys', fire: { where: 'ctr', argv: [A, 'creat:/root/.ssh/authorized_keys'] }, twin: { where: 'ctr', argv: [A, 'open:/root/.ssh/authorized_keys'] } },
    {
      rule: 'read-serviceaccount-token',
      fire: {
        where: 'ctr',
        argv: ['cat', '/run/secrets/kubernetes.io/serviceaccount/token'],
        setup: [[A, 'mkdir:/run', 'mkdir:/run/secrets', 'mkdir:/run/secrets/kubernetes.io', 'mkdir:/run/secrets/kubernetes.io/serviceaccount', 'creat:/run/secrets/kubernetes.io/serviceaccount/token']],
      },
      twin: { where: 'ctr', argv: [A, 'open:/run/secrets/kubernetes.io/serviceaccount/token'] },
    },
    {
      rule: 'clear-log-files',
      fire: { where: 'ctr', argv: [A, 'creat:/var/log/auth.log'], setup: [[A, 'mkdir:/var', 'mkdir:/var/log']] },
      twin: { where: 'ctr', argv: [A, 'open:/var/log/auth.log:02101'] },
    },
    { rule: 'truncate-shell-history', fire: { where: 'ctr', argv: [A, 'creat:/root/.ash_history'] }, twin: { where: 'ctr', argv: [A, 'open:/root/.ash_history:02101'] } },
    {
      rule: 'rename-shell-history',
      fire: { where: 'ctr', argv: ['mv', '/root/.ash_history', '/root/h2'], setup: [[A, 'creat:/root/other']] },
      twin: { where: 'ctr', argv: ['mv', '/root/other', '/root/other2'] },
    },
    {
      rule: 'delete-shell-history',
      fire: { where: 'ctr', argv: ['rm', '/root/.ash_history'], setup: [['mv', '/root/h2', '/root/.ash_history']] },
      twin: { where: 'ctr', argv: ['rm', '/root/other2'] },
    },
    {
      rule: 'write-cron',
      fire: { where: 'ctr', argv: [A, 'creat:/etc/cron.d/job'], setup: [[A, 'mkdir:/etc/cron.d']] },
      twin: { where: 'ctr', argv: [A, 'creat:/etc/motd'] },
    },
    {
      rule: 'write-systemd-unit',
      fire: { where: 'ctr', argv: [A, 'creat:/etc/systemd/system/evil.service'], setup: [[A, 'mkdir:/etc/systemd', 'mkdir:/etc/systemd/system']] },
      twin: { where: 'ctr', argv: [A, 'creat:/etc/systemd-notes'] },
    },
    {
      rule: 'release-agent-write',
      fire: { where: 'ctr', argv: [A, 'open:/sys/fs/cgroup/rdma/release_agent:01'] },
      twin: { where: 'ctr', argv: [A, 'open:/sys/fs/cgroup/rdma/release_agent'] },
    },
    // ---- processes and privileges
    {
      rule: 'ptrace-attach',
      fire: { where: 'wl', argv: [actions, `ptrace:${sleeper.pid}`] },
      twin: { where: 'wl', argv: ['/usr/bin/strace', '-f', '-o', '/dev/null', '/usr/bin/true', 'ptrace-twin'] },
    },
    {
      rule: 'ptrace-traceme',
      fire: { where: 'wl', argv: [python, '-c', 'import ctypes; ctypes.CDLL(None).ptrace(0, 0, 0, 0)', 'traceme-fire'] },
      twin: { where: 'wl', argv: [python, '-c', 'import ctypes; ctypes.CDLL(None).getpid()', 'traceme-twin'] },
    },
    {
      rule: 'set-setuid-bit',
      fire: { where: 'ctr', argv: ['chmod', '4755', '/tmp/suid'], setup: [[A, 'creat:/tmp/suid']] },
      twin: { where: 'ctr', argv: ['chmod', '0755', '/tmp/suid'] },
    },
    { rule: 'symlink-to-sensitive-file', fire: { where: 'ctr', argv: [A, 'symlink:/etc/shadow:/tmp/s-link'] }, twin: { where: 'ctr', argv: [A, 'symlink:/etc/hostname:/tmp/h-link'] } },
    { rule: 'hardlink-to-sensitive-file', fire: { where: 'ctr', argv: [A, 'link:/etc/shadow:/root/sh-link'] }, twin: { where: 'ctr', argv: [A, 'link:/etc/passwd:/root/pw-link'] } },
    { rule: 'namespace-change-in-workload', fire: { where: 'wl', argv: [actions, 'unshare:0x20000'] }, twin: { where: 'wl', argv: [actions, 'unshare:0x0'] } },
    { rule: 'bpf-load-in-workload', fire: { where: 'wl', argv: [actions, 'bpf-load:vigil_pack'] }, twin: { where: 'wl', argv: [actions, 'memfd:bpf-twin'] } },
    { rule: 'userfaultfd-in-workload', fire: { where: 'wl', argv: [actions, 'userfaultfd'] }, twin: { where: 'wl', argv: [actions, 'memfd:uffd-twin'] } },
    { rule: 'kernel-module-load', fire: { where: 'ctr', argv: [A, `finit_module:${A}`] }, twin: { where: 'ctr', argv: [A, `open:${A}`, 'module-twin'] } },
    {
      rule: 'mount-in-workload',
      fire: { where: 'wl', argv: [actions, 'unshare-mnt', `mount:tmpfs:${path.join(tmp, 'mnt')}:tmpfs`] },
      twin: { where: 'ctr', argv: ['mount'] },
    },
    // ---- network
    { rule: 'workload-to-cloud-metadata', fire: { where: 'ctr', argv: [A, 'connect4:169.254.169.254:80'] }, twin: { where: 'ctr', argv: [A, 'connect4:169.254.1.1:80'] } },
    { rule: 'workload-to-kubernetes-api', fire: { where: 'ctr', argv: [A, 'connect4:10.96.0.1:443'] }, twin: { where: 'ctr', argv: [A, 'connect4:10.96.0.2:443'] } },
    { rule: 'workload-to-kubernetes-api-port', fire: { where: 'ctr', argv: [A, 'connect4:192.168.255.1:6443'] }, twin: { where: 'ctr', argv: [A, 'connect4:192.168.255.1:6444'] } },
    { rule: 'workload-to-miner-port', fire: { where: 'ctr', argv: [A, 'connect4:198.51.100.7:3333'] }, twin: { where: 'ctr', argv: [A, 'connect4:10.0.5.5:3333'] } },
    { rule: 'packet-socket-in-workload', fire: { where: 'ctr', argv: [A, 'socket:17:3'] }, twin: { where: 'ctr', argv: [A, 'socket:2:1'] } },
    {
      rule: 'redirect-stdio-to-socket',
      fire: { where: 'wl', argv: [actions, `dupsock:dup2-0:127.0.0.1:${listener.port}`] },
      twin: { where: 'wl', argv: [actions, `dupsock:dup2-9:127.0.0.1:${listener.port}`] },
    },
    {
      rule: 'ssh-to-unusual-port',
      fire: { where: 'wl', argv: ['/usr/bin/ssh', ...SSH_OPTS, '-p', '4444', 'vigil@192.0.2.1'] },
      twin: { where: 'wl', argv: ['/usr/bin/ssh', ...SSH_OPTS, '-p', '22', 'vigil@192.0.2.1'] },
    },
  ];

  before(async function () {
    requireKernelTestPrivileges();
    for (const tool of ['/usr/bin/ssh', '/usr/bin/strace', '/usr/bin/setpriv', '/usr/sbin/debugfs', '/usr/sbin/dumpe2fs']) {
      if (!fs.existsSync(tool)) throw new Error(`the default pack test needs ${tool} (openssh-client, strace, util-linux, e2fsprogs)`);
    }
    python = pythonBinary();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-pack-'));
    shm = fs.mkdtempSync('/dev/shm/vigil-pack-');
    actions = fs.realpathSync(helperBinary('actions'));
    // programs named like a web server, a worker and sshd (copies of dash), a shell behind a link, scripts
    for (const [dir, name] of [['srv', 'nginx'], ['srv', 'worker'], ['login', 'sshd']]) {
      fs.mkdirSync(path.join(tmp, dir), { recursive: true });
      fs.copyFileSync('/usr/bin/dash', path.join(tmp, dir, name));
      fs.chmodSync(path.join(tmp, dir, name), 0o755);
    }
    fs.mkdirSync(path.join(tmp, 'bin'));
    fs.symlinkSync('/usr/bin/dash', path.join(tmp, 'bin', 'looks-harmless'));
    fs.mkdirSync(path.join(tmp, 'mnt'));
    fs.copyFileSync('/usr/bin/true', path.join(shm, 'true'));
    fs.chmodSync(path.join(shm, 'true'), 0o755);
    fs.writeFileSync(path.join(shm, 'x.sh'), 'exit 0\n');
    fs.writeFileSync(path.join(tmp, 'x.sh'), 'exit 0\n');
    fs.chmodSync(tmp, 0o755); // uid 1 and 1000 run below it
    fs.chmodSync(path.join(tmp, 'login'), 0o755);

    pm = await Podman.create('pack');
    sb = CgroupSandbox.create('pack');
    wl = sb.child('wl');
    layerBusybox = findLayerFile(pm.dir, 'bin/busybox');
    const identities = `
workloads:
  - spiffe_id: ${TD}/sa/containers
    cgroups: [${pm.cgroupBase.slice(1)}]
    image: localhost/vigil-test-busybox:1
  - spiffe_id: ${TD}/sa/host-workload
    cgroups: [${sb.top.rel.slice(1)}]
`;
    h = await new AgentHarness(fs.readFileSync(path.join(repoRoot(), 'deploy', 'rules', 'default.yaml'), 'utf8'), identities).start();
    const server = net.createServer((sock) => sock.on('error', () => {}).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    listener = { server, port: (server.address() as net.AddressInfo).port };
    // a process in the workload for ptrace to attach to
    sleeper = sb.spawnIn(wl, '/usr/bin/sleep', ['120'], { mode: 'exec' });
    c = await pm.createContainer({ cgroupParent: 'pack' });
    await pm.start(c);
    await new Promise((r) => setTimeout(r, 300));

    // every trigger, then every twin, in table order (later cases build on files earlier ones made)
    for (const k of cases()) {
      const codes: number[] = [];
      const fire = await run(k.fire, codes);
      const twin = await run(k.twin, codes);
      ran.set(k, { fire, twin, codes });
    }
    await new Promise((r) => setTimeout(r, 1500));
  });

  after(async function () {
    if (process.env.VIGIL_TEST_DUMP && h) fs.writeFileSync(process.env.VIGIL_TEST_DUMP, h.alerts.map((a) => JSON.stringify(a)).join('\n'));
    sleeper?.child.kill('SIGKILL');
    listener?.server.close();
    if (h) await h.stop();
    if (pm) await pm.cleanup();
    if (sb) await sb.cleanup();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    if (shm) fs.rmSync(shm, { recursive: true, force: true });
  });

  /** Run a step (its setup first); the args its alert carries. */
  async function run(s: Step, codes: number[]): Promise<string[]> {
    for (const cmd of s.setup ?? []) await runOne(s.where, cmd);
    codes.push(await runOne(s.where, s.argv, s.tty));
    return s.args ?? s.argv;
  }

  /** Run one command to its end; its exit status (126, 127: it never started). */
  async function runOne(where: Where, argv: string[], tty = false): Promise<number> {
    if (where === 'ctr') return (tty ? await pm.podman(['exec', '-t', c.id, ...argv]) : await pm.exec(c, argv)).code;
    if (where === 'wl') {
      const st = sb.spawnIn(wl, argv[0], argv.slice(1), { mode: 'exec' });
      return (await st.done).code ?? -1;
    }
    return new Promise<number>((resolve, reject) => {
      const child = spawn(argv[0], argv.slice(1), { stdio: 'ignore' });
      child.on('error', reject);
      child.on('close', (code) => resolve(code ?? -1));
    });
  }

  const same = (a: readonly string[] | null, b: readonly string[]): boolean => a !== null && a.length === b.length && a.every((x, i) => x === b[i]);

  // one test per rule: the alert from the trigger, none from its twin
  const names = [
    'shell-in-workload', 'renamed-shell-in-workload', 'busybox-in-workload', 'shell-from-server', 'system-user-interactive',
    'package-manager-in-workload', 'network-tool-in-workload', 'netcat-remote-exec', 'namespace-tool-in-workload', 'debugfs-in-workload',
    'remove-bulk-data', 'search-private-keys', 'find-private-keys', 'search-aws-credentials', 'find-aws-credentials', 'crontab-in-workload',
    'crypto-miner-args', 'drift-binary-exec', 'changed-binary-exec', 'exec-from-tmp-in-workload', 'fileless-exec', 'exec-from-dev-shm', 'script-from-dev-shm',
    'host-exec-from-container-fs', 'write-below-binary-dir', 'write-below-etc-in-workload', 'read-sensitive-file', 'read-sensitive-dir',
    'read-ssh-keys', 'write-authorized-keys', 'read-serviceaccount-token', 'clear-log-files', 'truncate-shell-history', 'rename-shell-history',
    'delete-shell-history', 'write-cron', 'write-systemd-unit', 'release-agent-write', 'ptrace-attach', 'kernel-module-load',
    'mount-in-workload', 'workload-to-cloud-metadata', 'workload-to-kubernetes-api', 'workload-to-kubernetes-api-port',
    'workload-to-miner-port', 'ssh-to-unusual-port', 'ptrace-traceme', 'set-setuid-bit', 'symlink-to-sensitive-file',
    'hardlink-to-sensitive-file', 'namespace-change-in-workload', 'bpf-load-in-workload', 'userfaultfd-in-workload',
    'packet-socket-in-workload', 'redirect-stdio-to-socket',
    'read-sensitive-file (directory traversal)', 'read-sensitive-file (a server reading it)',
  ];
  for (const name of names) {
    it(`${name}: fires on its trigger, not on its benign twin`, async () => {
      const k = [...ran.keys()].find((x) => label(x) === name);
      assert.ok(k, `no case ran for ${name}`);
      const rule = k.rule;
      const r = ran.get(k);
      assert.ok(r);
      // a twin that never started would prove nothing: both steps ran their programs
      assert.ok(!r.codes.some((x) => x === 126 || x === 127), `a step did not start its program: exit statuses ${JSON.stringify(r.codes)}`);
      const hit = await h.waitFor(`${rule} from ${JSON.stringify(r.fire)}`, (a) => a.rule === rule && same(a.process.args, r.fire), 3000);
      const where = k.fire.where;
      if (where === 'ctr') assert.equal(hit.workload.container_id, c.id, 'from inside the container');
      if (where === 'ctr') assert.equal(hit.workload.spiffe_id, `${TD}/sa/containers`);
      if (where === 'wl') assert.equal(hit.workload.spiffe_id, `${TD}/sa/host-workload`);
      if (where === 'host') assert.equal(hit.workload.spiffe_id, null);
      const twins = h.alerts.filter((a) => a.rule === rule && same(a.process.args, r.twin));
      assert.deepEqual(twins, [], `${rule} fired on its benign twin ${JSON.stringify(r.twin)}:\n${show(twins)}`);
    });
  }

  it('sensitive-host-mount: a container started with the host\'s /etc as a volume, not one with a directory of its own', async () => {
    const data = fs.mkdtempSync(path.join(tmp, 'data-'));
    const bad = await pm.createContainer({ cgroupParent: 'pack', flags: ['-v', '/etc:/hostetc:ro'] });
    const good = await pm.createContainer({ cgroupParent: 'pack', flags: ['-v', `${data}:/data`] });
    await pm.start(bad);
    await pm.start(good);
    const hit = await h.waitFor('sensitive-host-mount', (a) => a.rule === 'sensitive-host-mount' && a.workload.container_id === bad.id, 5000);
    assert.equal(hit.event.source, '/etc', 'the alert says what was mounted');
    assert.match(hit.output, /mount of \/etc /);
    assert.equal(hit.workload.spiffe_id, `${TD}/sa/containers`);
    await new Promise((r) => setTimeout(r, 1000));
    const twins = h.alerts.filter((a) => a.rule === 'sensitive-host-mount' && a.workload.container_id === good.id);
    assert.deepEqual(twins, [], `a container with its own directory as a volume:\n${show(twins)}`);
    // neither start raised anything else: the runtime's set-up stays quiet with the volumes
    const others = h.alerts.filter((a) => (a.workload.container_id === bad.id || a.workload.container_id === good.id) && a.rule !== 'sensitive-host-mount');
    assert.deepEqual(others, [], show(others));
    await pm.remove(bad);
    await pm.remove(good);
  });

  it('every rule of the pack has a case here, or is proved elsewhere (docs/rules.md names the test)', () => {
    const text = fs.readFileSync(path.join(repoRoot(), 'deploy', 'rules', 'default.yaml'), 'utf8');
    const inPack = [...text.matchAll(/^ {2}- name: ([a-z0-9-]+)$/gm)].map((m) => m[1]);
    const elsewhere = new Set(['setuid-to-root-in-workload', 'leave-workload', 'sensitive-host-mount']);
    const missing = inPack.filter((n) => !names.includes(n) && !elsewhere.has(n));
    assert.deepEqual(missing, [], 'rules of the pack without a trigger and a twin');
    assert.deepEqual([...ran.keys()].map(label).sort(), [...names].sort());
  });
});

const SSH_OPTS = ['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=1', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-F', '/dev/null'];

/** Python that runs a program from a memfd (fileless) or from its file, with argv [name]. */
function memfdExec(program: string, name: string, fileless: boolean): string {
  return fileless
    ? `import os; fd = os.memfd_create('x', 0); os.write(fd, open('${program}', 'rb').read()); os.execv('/proc/self/fd/%d' % fd, ['${name}'])`
    : `import os; os.execv('${program}', ['${name}'])`;
}

/** The real python3 (not a pyenv shim, which is a shell script). */
function pythonBinary(): string {
  const out = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
  if (!out || !fs.existsSync(out)) throw new Error('the default pack test needs python3 (for memfd_create)');
  return fs.realpathSync(out);
}

/** A file of the test image as the host sees it: in a layer of podman's overlay storage. */
function findLayerFile(podmanDir: string, rel: string): string {
  const overlay = path.join(podmanDir, 'root', 'overlay');
  for (const id of fs.readdirSync(overlay)) {
    const f = path.join(overlay, id, 'diff', rel);
    if (fs.existsSync(f)) return f;
  }
  throw new Error(`no image layer under ${overlay} holds ${rel}`);
}
