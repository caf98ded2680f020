// docs/rules.md's detection table is a claim about the default pack and its
// tests: for each of Falco's 25 stable rules, the Vigil rules that stand for
// it and the tests that prove them. This keeps the claim true: every rule it
// names is in deploy/rules/default.yaml, every test it names exists (a case of
// test/e2e/default-pack.test.ts, which triggers the rule from inside a
// workload and runs its benign twin), and each rule it names has a test in
// its row.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../../common/repo';

/**
 * The stable rules of falcosecurity/rules `rules/falco_rules.yaml` (every
 * rule there is tagged maturity_stable; checked against c72713e, 2026-06-18).
 */
const FALCO_STABLE = [
  'Directory traversal monitored file read',
  'Read sensitive file trusted after startup',
  'Read sensitive file untrusted',
  'Run shell untrusted',
  'System user interactive',
  'Terminal shell in container',
  'Contact K8S API Server From Container',
  'Netcat Remote Code Execution in Container',
  'Search Private Keys or Passwords',
  'Clear Log Activities',
  'Remove Bulk Data from Disk',
  'Create Symlink Over Sensitive Files',
  'Create Hardlink Over Sensitive Files',
  'Packet socket created in container',
  'Redirect STDOUT/STDIN to Network Connection in Container',
  'Linux Kernel Module Injection Detected',
  'Debugfs Launched in Privileged Container',
  'Detect release_agent File Container Escapes',
  'PTRACE attached to process',
  'PTRACE anti-debug attempt',
  'Find AWS Credentials',
  'Execution from /dev/shm',
  'Drop and execute new binary in container',
  'Disallowed SSH Connection Non Standard Port',
  'Fileless execution via memfd_create',
];

interface Row {
  topic: string;
  rules: string[];
  tests: string[];
  line: number;
}

/** The rows of the tables below "### Detection table", up to the next section. */
function detectionRows(): { stable: Row[]; more: Row[] } {
  const lines = fs.readFileSync(path.join(repoRoot(), 'docs', 'rules.md'), 'utf8').split('\n');
  const start = lines.findIndex((l) => l === '### Detection table');
  assert.ok(start >= 0, 'docs/rules.md has no "### Detection table"');
  const tables: Row[][] = [];
  let cur: Row[] | null = null;
  for (let i = start + 1; i < lines.length && !/^#{1,3} /.test(lines[i]); i++) {
    const l = lines[i];
    if (!l.startsWith('|')) {
      cur = null;
      continue;
    }
    const cells = l.split('|').slice(1, -1).map((c) => c.trim());
    if (cells.length !== 3) throw new Error(`docs/rules.md:${i + 1}: a detection row has 3 cells, this one ${cells.length}`);
    if (cur === null) {
      cur = [];
      tables.push(cur);
      continue; // the header
    }
    if (/^-+$/.test(cells[0])) continue;
    cur.push({
      topic: cells[0],
      // the rule names, in backquotes, before any note (in parentheses, or after a colon) that names conditions or lists
      rules: [...cells[1].replace(/\([^()]*\)/g, '').split(/:\s/)[0].matchAll(/`([a-z0-9-]+)`/g)].map((m) => m[1]),
      tests: cells[2].split(/,\s*/).map((t) => t.trim()).filter(Boolean),
      line: i + 1,
    });
  }
  assert.equal(tables.length, 2, 'the detection section has two tables (Falco stable, then the other topics)');
  return { stable: tables[0], more: tables[1] };
}

/** The test names of test/e2e/default-pack.test.ts: its `names` list ("RULE" or "RULE (VARIANT)"). */
function packTests(): Set<string> {
  const src = fs.readFileSync(path.join(repoRoot(), 'test', 'e2e', 'default-pack.test.ts'), 'utf8');
  const list = /const names = \[([\s\S]*?)\];/.exec(src);
  assert.ok(list, 'test/e2e/default-pack.test.ts has no `const names = [...]`');
  const names = new Set([...list[1].matchAll(/'([^']+)'/g)].map((m) => m[1]));
  // the cases outside the loop, by their `it` titles' leading rule name
  for (const m of src.matchAll(/\bit\('([a-z0-9-]+): /g)) names.add(m[1]);
  return names;
}

function packRules(): Set<string> {
  const text = fs.readFileSync(path.join(repoRoot(), 'deploy', 'rules', 'default.yaml'), 'utf8');
  return new Set([...text.matchAll(/^ {2}- name: ([a-z0-9-]+)$/gm)].map((m) => m[1]));
}

describe('docs/rules.md detection table: Falco stable rules -> default pack rules -> tests that exist', () => {
  it('lists each of Falco\'s 25 stable rules once, in falco_rules.yaml\'s order', () => {
    assert.deepEqual(
      detectionRows().stable.map((r) => r.topic),
      FALCO_STABLE,
    );
  });

  it('every rule it names is in the default pack, every test it names exists, and each named rule has a test in its row', () => {
    const { stable, more } = detectionRows();
    assert.deepEqual(faultsOf([...stable, ...more], packRules(), packTests()), []);
  });

  it('the checker sees a wrong row: a rule or a test that does not exist, a rule without its test, a row without a rule', () => {
    const rules = packRules();
    const tests = packTests();
    assert.ok(rules.size >= 50, `the pack has ${rules.size} rules`);
    assert.ok(tests.has('read-sensitive-file (directory traversal)'), 'variants are read from the names list');
    const rows: Row[] = [
      { topic: 'a', rules: ['read-sensitive-files'], tests: ['read-sensitive-files'], line: 1 },
      { topic: 'b', rules: ['read-sensitive-file', 'read-ssh-keys'], tests: ['read-sensitive-file'], line: 2 },
      { topic: 'c', rules: [], tests: ['read-sensitive-file'], line: 3 },
      { topic: 'd', rules: ['read-sensitive-file'], tests: ['read-sensitive-file (directory traversal)'], line: 4 },
    ];
    assert.deepEqual(faultsOf(rows, rules, tests), [
      'docs/rules.md:1: `read-sensitive-files` is not a rule of deploy/rules/default.yaml',
      'docs/rules.md:1: test "read-sensitive-files" is not a case of test/e2e/default-pack.test.ts',
      'docs/rules.md:2: `read-ssh-keys` has no test in its row',
      'docs/rules.md:3: "c" names no rule of the pack',
    ]);
    const { more } = detectionRows();
    assert.ok(more.length >= 15, `the second table has ${more.length} rows`);
  });
});

function faultsOf(rows: Row[], rules: Set<string>, tests: Set<string>): string[] {
  const faults: string[] = [];
  for (const r of rows) {
    if (r.rules.length === 0) faults.push(`docs/rules.md:${r.line}: "${r.topic}" names no rule of the pack`);
    for (const x of r.rules) if (!rules.has(x)) faults.push(`docs/rules.md:${r.line}: \`${x}\` is not a rule of deploy/rules/default.yaml`);
    for (const t of r.tests) if (!tests.has(t)) faults.push(`docs/rules.md:${r.line}: test "${t}" is not a case of test/e2e/default-pack.test.ts`);
    for (const x of r.rules) {
      if (!r.tests.some((t) => t === x || t.startsWith(`${x} (`))) faults.push(`docs/rules.md:${r.line}: \`${x}\` has no test in its row`);
    }
  }
  return faults;
}
