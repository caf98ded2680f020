// cli/main.ts: one parser for every subcommand. Every command is found by
// walking the program itself, so a command added later is checked too.
import * as assert from 'node:assert/strict';
import type { Command } from 'commander';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { KIND_NAMES } from '../../agent/kernel/abi';
import { alertLine } from '../../cli/admin';
import { program } from '../../cli/main';
import { runVigil } from '../helpers/cli';

/** Every runnable command, as the words that name it (["policy", "push"], ...). */
function leaves(): { words: string[]; args: number }[] {
  const out: { words: string[]; args: number }[] = [];
  const walk = (c: Command, words: string[]): void => {
    const subs = c.commands.filter((s) => s.name() !== 'help');
    if (subs.length === 0) out.push({ words, args: c.registeredArguments.filter((a) => a.required).length });
    for (const s of subs) walk(s, [...words, s.name()]);
  };
  walk(program({ out: process.stdout, err: process.stderr, exit: () => undefined }), []);
  return out;
}

describe('vigil: one command line', () => {
  const all = leaves();

  it('knows every subcommand', () => {
    assert.deepEqual(all.map((l) => l.words.join(' ')).sort(), [
      'advisories add', 'advisories import', 'advisories list', 'agent', 'agents', 'alerts', 'audit check-proof', 'audit checkpoint', 'audit export', 'audit prove', 'audit verify', 'certs init', 'certs issue', 'controlplane', 'gate',
      'policy push', 'probe', 'quarantine', 'rules check', 'rules test', 'sbom import', 'sbom show', 'tickets', 'trace', 'up', 'vex verify',
    ]);
  });

  it('every subcommand refuses an unknown option with the same message, exit 2, and does nothing', async () => {
    for (const l of all) {
      const r = await runVigil(...l.words, '--bogus', ...Array<string>(l.args).fill('x'));
      const name = `vigil ${l.words.join(' ')}`;
      assert.equal(r.code, 2, `${name}: ${r.err}`);
      assert.equal(r.err, `${name}: unknown option "--bogus" (see ${name} --help)\n`);
      assert.equal(r.out, '');
    }
  });

  it('every subcommand has --help (exit 0, usage on stdout)', async () => {
    for (const l of all) {
      const r = await runVigil(...l.words, '--help');
      assert.equal(r.code, 0, l.words.join(' '));
      assert.match(r.out, new RegExp(`^Usage: vigil ${l.words.join(' ')}\\b`));
      assert.match(r.out, /-h, --help +show this help/);
    }
    const top = await runVigil('help');
    assert.equal(top.code, 0);
    for (const l of all) assert.match(top.out, new RegExp(`^  ${l.words[0]}\\b`, 'm'));
    assert.match(top.out, /Exit status: 0 ok; 1 failed/);
  });

  it('usage errors exit 2 and name the command once: unknown commands, stray arguments, missing and bad values', async () => {
    const cases: [string[], string][] = [
      [['teleport'], 'vigil: unknown command "teleport" (expected up, agent, controlplane, alerts, agents, policy, audit, advisories, gate, quarantine, tickets, sbom, vex, certs, rules, trace, probe)\nrun vigil help for the commands\n'],
      [['policy', 'pull'], 'vigil policy: unknown subcommand "pull" (expected push)\n'],
      // vex runs on its own and has a subcommand: its options are checked too
      [['vex', '--bogus'], 'vigil vex: unknown option "--bogus" (see vigil vex --help)\n'],
      [['vex', '--image', 'sha256:' + 'a'.repeat(64), '--min-window', 'soon'], 'vigil vex: --min-window: expected a duration such as 7d, 12h, 30m, 10s or 500ms, got "soon"\n'],
      [['vex', '--output', 'xml'], 'vigil vex: option \'--output <format>\' argument \'xml\' is invalid. Allowed choices are json, dsse.\n'],
      [['agent', 'extra', '--rules', 'r'], 'vigil agent: unexpected argument "extra" (see vigil agent --help)\n'],
      [['agent', '--rules'], 'vigil agent: --rules: expected a value\n'],
      [['agent', '--kubernetes=yes', '--rules', 'r'], 'vigil agent: --kubernetes takes no value\n'],
      [['rules', 'check'], 'vigil rules check: expected PATH... (see vigil rules check --help)\n'],
      [['rules', 'test', 'r.yaml'], 'vigil rules test: --events FILE... is required (see vigil rules test --help)\n'],
      [['agent', '--rules', 'r', '--alert-rate', 'loud=many'], 'vigil agent: --alert-rate: expected N or RULE=N (alerts a second, 0 = no limit), got "loud=many"\n'],
      [['agent', '--rules', 'r', '--alert-window', '7200'], 'vigil agent: --alert-window: expected seconds from 0 to 3600\n'],
      [['certs', 'init', '--dir', '/nonexistent'], 'vigil certs init: --trust-domain is required (see vigil certs init --help)\n'],
      [['controlplane', '--data', '/nonexistent'], 'vigil controlplane: --listen is required (see vigil controlplane --help)\n'],
      [['trace', '--kinds', 'exec,teleport'], `vigil trace: --kinds: unknown event kind "teleport" (expected some of ${KIND_NAMES.join(',')})\n`],
      [['trace', '--output', 'yaml'], 'vigil trace: --output: expected json or text, got "yaml"\n'],
      [['alerts', '--limit', '0'], 'vigil alerts: --limit: expected a whole number from 1 to 1000000, got "0"\n'],
      [['agent', '--metrics', 'nowhere'], 'vigil agent: --metrics: "nowhere": expected HOST:PORT\n'],
      [['up', '--duration', '-5'], 'vigil up: --duration: expected seconds > 0\n'],
    ];
    for (const [argv, err] of cases) {
      const r = await runVigil(...argv);
      assert.equal(r.err, err, argv.join(' '));
      assert.equal(r.code, 2, argv.join(' '));
    }
    const none = await runVigil();
    assert.equal(none.code, 2);
    assert.match(none.out, /^Usage: vigil <command> \[options\]/);
  });

  it('a control plane that cannot be reached is exit 3, not a usage error', async () => {
    // a port nothing listens on: bind one, close it
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    for (const cmd of [['alerts'], ['agents']]) {
      const r = await runVigil(...cmd, '--controlplane', `127.0.0.1:${port}`, '--insecure');
      assert.equal(r.code, 3, r.err);
      assert.match(r.err, new RegExp(`^vigil ${cmd[0]}: the control plane at 127\\.0\\.0\\.1:${port} cannot be reached: `));
    }
  });

  it('with no --controlplane, says where it looked for the local one (exit 2)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-nolocal-'));
    try {
      const r = await runVigil('alerts', '--data', dir);
      assert.equal(r.code, 2);
      assert.equal(r.err, `vigil alerts: no --controlplane given and no local control plane (${dir}/local.json is missing): start one with vigil up, or give --controlplane HOST:PORT --certs DIR\n`);
      fs.writeFileSync(path.join(dir, 'local.json'), '{"address": 1}');
      const torn = await runVigil('agents', '--data', dir);
      assert.equal(torn.code, 2);
      assert.match(torn.err, /local\.json: not what vigil up writes \(expected address, certs and data\)/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a check that finds a problem is exit 1 (invalid rules), with the file:line:col first', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-check-'));
    try {
      const f = path.join(dir, 'bad.yaml');
      fs.writeFileSync(f, 'rules:\n  - name: x\n    on: teleport\n');
      const r = await runVigil('rules', 'check', f);
      assert.equal(r.code, 1);
      assert.match(r.err, new RegExp(`^${f}:3:9: rule "x": on: expected one of exec,`));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('vigil alerts: the text view', () => {
  it('one line per alert; what an agent wrote cannot move the cursor, recolour or forge lines', () => {
    const hostile = JSON.stringify({
      time: '2026-12-02T10:00:00.000000001Z',
      priority: 'critical',
      node: 'n1\u001b]0;owned\u0007',
      output: 'shell spawned\n2026-12-02T10:00:01Z CRITICAL n2 forged line\u001b[2K\r\u202eevil',
    });
    const line = alertLine(hostile);
    assert.doesNotMatch(line, /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    assert.equal(
      line,
      '2026-12-02T10:00:00.000000001Z CRITICAL      n1\\x1b]0;owned\\x07 shell spawned\\n2026-12-02T10:00:01Z CRITICAL n2 forged line\\x1b[2K\\r\\u202eevil',
    );
    assert.equal(alertLine('not json \u001b[31m'), '(not JSON) not json \\x1b[31m');
  });
});
