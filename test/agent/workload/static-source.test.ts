// The identities file (`--identities`): cgroup globs, the deepest named
// ancestor, container id prefixes, addresses, and every error with its exact
// file:line:col, the source line and a ^.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { VigilError } from '../../../common/errors';
import { parseCgroupPath } from '../../../agent/workload/cgroup-path';
import type { CgroupFacts } from '../../../agent/workload/source';
import { StaticIdentitySource } from '../../../agent/workload/static-source';

const CTR = '286640c393fb04ee6930d6aa3788e9aad2bb7b0112fc0259f4a9683b5f1b309f';
const CTR2 = '07fbdd9c2315e9f31cf3c2563eacd2eea85f1ce5edb2f4151183740a7cab87a8';

function facts(p: string): CgroupFacts {
  return { ...parseCgroupPath(p), path: p };
}

function parse(text: string, name = 'ids.yaml'): StaticIdentitySource {
  return StaticIdentitySource.parse({ name, text });
}

function errorOf(text: string, name = 'ids.yaml'): string {
  try {
    parse(text, name);
  } catch (err) {
    assert.ok(err instanceof VigilError, `expected a VigilError, got ${String(err)}`);
    assert.equal(err.code, 'IDENTITIES');
    return err.message;
  }
  assert.fail('the identities loaded, but they should not have');
}

describe('static identities: cgroups, container ids, addresses', () => {
  const src = parse(`workloads:
  - spiffe_id: spiffe://example.org/ns/pay/sa/api
    cgroups: [vigil-demo/payments-api]
    addresses: [10.200.1.2, 10.201.0.0/24]
  - spiffe_id: spiffe://example.org/ns/pay/sa/workers
    cgroups: ["/vigil-demo/workers-*/", "jobs/**/batch"]
  - spiffe_id: spiffe://example.org/ns/pay/sa/inner
    cgroups: [vigil-demo/payments-api/sidecar]
  - spiffe_id: spiffe://example.org/ns/pay/sa/ctr
    container_ids: [${CTR.slice(0, 12)}]
  - spiffe_id: spiffe://example.org/ns/pay/sa/db
    addresses: ["2001:db8::/32", 10.200.1.3]
  - spiffe_id: spiffe://example.org/ns/pay/sa/api
    cgroups: [second-home]
`);

  it('a named cgroup, with or without a leading /', () => {
    assert.equal(src.spiffeIdFor(facts('/vigil-demo/payments-api')), 'spiffe://example.org/ns/pay/sa/api');
    assert.equal(src.spiffeIdFor(facts('vigil-demo/payments-api')), 'spiffe://example.org/ns/pay/sa/api');
  });

  it('child cgroups take their nearest named ancestor: the deepest one wins', () => {
    assert.equal(src.spiffeIdFor(facts('/vigil-demo/payments-api/a/b')), 'spiffe://example.org/ns/pay/sa/api');
    // sidecar is named by its own workload, deeper than payments-api
    assert.equal(src.spiffeIdFor(facts('/vigil-demo/payments-api/sidecar')), 'spiffe://example.org/ns/pay/sa/inner');
    assert.equal(src.spiffeIdFor(facts('/vigil-demo/payments-api/sidecar/x')), 'spiffe://example.org/ns/pay/sa/inner');
  });

  it('a prefix of a name is not an ancestor; a parent is not its child', () => {
    assert.equal(src.spiffeIdFor(facts('/vigil-demo/payments-api2')), null);
    assert.equal(src.spiffeIdFor(facts('/vigil-demo')), null);
    assert.equal(src.spiffeIdFor(facts('/')), null);
    assert.equal(src.spiffeIdFor(facts('/other/vigil-demo/payments-api')), null, 'names are relative to the root, not suffixes');
  });

  it('globs: * within one component (slashes around the pattern trimmed), ** across components', () => {
    assert.equal(src.spiffeIdFor(facts('/vigil-demo/workers-1')), 'spiffe://example.org/ns/pay/sa/workers');
    assert.equal(src.spiffeIdFor(facts('/vigil-demo/workers-/x')), 'spiffe://example.org/ns/pay/sa/workers');
    assert.equal(src.spiffeIdFor(facts('/vigil-demo/workers')), null);
    assert.equal(src.spiffeIdFor(facts('/jobs/batch')), 'spiffe://example.org/ns/pay/sa/workers');
    assert.equal(src.spiffeIdFor(facts('/jobs/a/b/batch/step-1')), 'spiffe://example.org/ns/pay/sa/workers');
    assert.equal(src.spiffeIdFor(facts('/jobs/a/b/notbatch')), null);
  });

  it('one SPIFFE ID may be named by several workloads', () => {
    assert.equal(src.spiffeIdFor(facts('/second-home/x')), 'spiffe://example.org/ns/pay/sa/api');
    assert.deepEqual(src.spiffeIds(), [
      'spiffe://example.org/ns/pay/sa/api',
      'spiffe://example.org/ns/pay/sa/workers',
      'spiffe://example.org/ns/pay/sa/inner',
      'spiffe://example.org/ns/pay/sa/ctr',
      'spiffe://example.org/ns/pay/sa/db',
    ]);
  });

  it('container ids: a prefix of the id read from the cgroup path, wherever the cgroup is', () => {
    const f = facts(`/system.slice/docker-${CTR}.scope`);
    assert.equal(f.containerId, CTR);
    assert.equal(src.spiffeIdFor(f), 'spiffe://example.org/ns/pay/sa/ctr');
    assert.equal(src.spiffeIdFor(facts(`/system.slice/docker-${CTR2}.scope`)), null);
    // the container id is asked first: it wins over a cgroup name
    assert.equal(src.spiffeIdFor(facts(`/vigil-demo/payments-api/docker-${CTR}.scope`)), 'spiffe://example.org/ns/pay/sa/ctr');
    // and a cgroup without one falls back to the names
    assert.equal(src.spiffeIdFor(facts(`/vigil-demo/payments-api/docker-${CTR2}.scope`)), 'spiffe://example.org/ns/pay/sa/api');
  });

  it('addresses: each block with its workload\'s SPIFFE ID, in file order', () => {
    assert.deepEqual(
      src.addresses().map((a) => [a.cidr.text, a.cidr.family, a.cidr.prefix, a.spiffeId]),
      [
        ['10.200.1.2', 4, 32, 'spiffe://example.org/ns/pay/sa/api'],
        ['10.201.0.0/24', 4, 24, 'spiffe://example.org/ns/pay/sa/api'],
        ['2001:db8::/32', 6, 32, 'spiffe://example.org/ns/pay/sa/db'],
        ['10.200.1.3', 4, 32, 'spiffe://example.org/ns/pay/sa/db'],
      ],
    );
  });

  it('spiffe_id may come after the addresses it owns', () => {
    const s = parse(`workloads:
  - addresses: [10.9.0.1]
    spiffe_id: spiffe://example.org/late
  - addresses: [10.9.0.2]
    spiffe_id: spiffe://example.org/later
`);
    assert.deepEqual(
      s.addresses().map((a) => [a.cidr.text, a.spiffeId]),
      [
        ['10.9.0.1', 'spiffe://example.org/late'],
        ['10.9.0.2', 'spiffe://example.org/later'],
      ],
    );
  });

  it('answers are cached per path and container id, and stay the same', () => {
    const a = src.spiffeIdFor(facts('/vigil-demo/payments-api/c'));
    const b = src.spiffeIdFor(facts('/vigil-demo/payments-api/c'));
    assert.equal(a, b);
    assert.equal(a, 'spiffe://example.org/ns/pay/sa/api');
    // the same path with a container id is a different question
    assert.equal(src.spiffeIdFor({ ...facts('/vigil-demo/payments-api/c'), containerId: CTR }), 'spiffe://example.org/ns/pay/sa/ctr');
    assert.equal(src.spiffeIdFor(facts('/vigil-demo/payments-api/c')), 'spiffe://example.org/ns/pay/sa/api');
  });

  it('an empty workloads list, and empty(), name nothing', () => {
    const s = parse('workloads: []\n', 'empty.yaml');
    assert.equal(s.name, 'empty.yaml');
    assert.equal(s.spiffeIdFor(facts('/vigil-demo/payments-api')), null);
    assert.deepEqual(s.addresses(), []);
    assert.deepEqual(s.spiffeIds(), []);
    const e = StaticIdentitySource.empty();
    assert.equal(e.name, 'none');
    assert.equal(e.spiffeIdFor(facts('/a')), null);
    assert.deepEqual(e.spiffeIds(), []);
  });

  it('load(): reads a file and names the source after it; a missing file says so', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-ids-'));
    try {
      const f = path.join(dir, 'ids.yaml');
      fs.writeFileSync(f, 'workloads:\n  - spiffe_id: spiffe://example.org/x\n    cgroups: [x]\n');
      const s = StaticIdentitySource.load(f);
      assert.equal(s.name, f);
      assert.equal(s.spiffeIdFor(facts('/x/y')), 'spiffe://example.org/x');
      const missing = path.join(dir, 'nope.yaml');
      assert.throws(
        () => StaticIdentitySource.load(missing),
        (err: unknown) =>
          err instanceof VigilError &&
          err.code === 'IDENTITIES' &&
          err.message === `${missing}: cannot read: ENOENT: no such file or directory, open '${missing}'`,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('static identities: errors', () => {
  it('every problem of a file, in order, each with file:line:col, the line and a ^', () => {
    assert.equal(
      errorOf(`workloads:
  - spiffe_id: spiffe://Example.org/x
    cgroups: [a]
    extra: 1
  - cgroups: [c]
  - 42
  - spiffe_id: spiffe://example.org/ok
    cgroups: [d]
`),
      `ids.yaml:2:16: workloads[0].spiffe_id: invalid SPIFFE ID "spiffe://Example.org/x": trust domain contains an invalid character 'E' at offset 9: only a-z, 0-9, ".", "-" and "_" are allowed
  - spiffe_id: spiffe://Example.org/x
               ^
ids.yaml:4:5: workloads[0]: unknown key "extra" (expected spiffe_id, cgroups, container_ids, addresses, image)
    extra: 1
    ^
ids.yaml:5:5: workloads[1]: missing spiffe_id
  - cgroups: [c]
    ^
ids.yaml:6:5: workloads[2]: expected a map with spiffe_id, cgroups, container_ids, addresses, image
  - 42
    ^`,
    );
  });

  it('bad list items: each one reported with its value and why', () => {
    // positions of list items: see the regression test below
    const msg = errorOf(`workloads:
  - spiffe_id: spiffe://example.org/x
    cgroups: [a, "b***", ""]
    container_ids: [abc, 0123456789ab, ${CTR.toUpperCase().slice(0, 12)}, ${CTR}0, ${CTR.slice(0, 11)}]
    addresses: [10.0.0.1, 1.2.3/8, fe80::1%eth0, 10.0.0.0/33, "::/129", 10.0.0.0/-1]
`);
    const messages = msg
      .split('\n')
      .filter((l) => l.startsWith('ids.yaml:'))
      .map((l) => l.replace(/^ids\.yaml:\d+:\d+: /, ''));
    assert.deepEqual(messages, [
      'workloads[0].cgroups: "b***": more than two * in a row',
      'workloads[0].cgroups: empty glob',
      'workloads[0].container_ids: "abc" is not a container id (12 to 64 lowercase hex digits)',
      `workloads[0].container_ids: "${CTR.toUpperCase().slice(0, 12)}" is not a container id (12 to 64 lowercase hex digits)`,
      `workloads[0].container_ids: "${CTR}0" is not a container id (12 to 64 lowercase hex digits)`,
      `workloads[0].container_ids: "${CTR.slice(0, 11)}" is not a container id (12 to 64 lowercase hex digits)`,
      'workloads[0].addresses: "1.2.3/8" is not an IP address or CIDR block',
      'workloads[0].addresses: "fe80::1%eth0" is not an IP address or CIDR block',
      'workloads[0].addresses: "10.0.0.0/33" is not an IP address or CIDR block',
      'workloads[0].addresses: "::/129" is not an IP address or CIDR block',
      'workloads[0].addresses: "10.0.0.0/-1" is not an IP address or CIDR block',
    ]);
    // each with its source line and a ^
    assert.equal(msg.split('\n').length, messages.length * 3);
    // the limits themselves are fine: 12 and 64 digits
    const ok = parse(`workloads:\n  - spiffe_id: spiffe://example.org/x\n    container_ids: [${CTR.slice(0, 12)}, ${CTR}]\n`);
    assert.equal(ok.spiffeIdFor(facts(`/docker-${CTR}.scope`)), 'spiffe://example.org/x');
  });

  it('the file name is the one given', () => {
    assert.match(errorOf('workloads: 1\n', 'deploy/ids.yml'), /^deploy\/ids\.yml:1:12: workloads: expected a list\n/);
  });

  it('top level: not a map; an unknown key; workloads not a list', () => {
    assert.equal(
      errorOf('[1, 2]\n'),
      `ids.yaml:1:1: top level: expected a map with a "workloads" list
[1, 2]
^`,
    );
    assert.equal(
      errorOf(`workloads: {a: 1}
other: 2
`),
      `ids.yaml:2:1: top level: unknown key "other" (expected workloads)
other: 2
^
ids.yaml:1:12: workloads: expected a list
workloads: {a: 1}
           ^`,
    );
  });

  it('an empty file: no workloads list', () => {
    assert.equal(errorOf(''), `ids.yaml:1:1: top level: expected a map with a "workloads" list\n\n^`);
  });

  it('wrong types: a spiffe_id that is not a string, a list that is not a list, an item that is not a string', () => {
    assert.equal(
      errorOf(`workloads:
  - spiffe_id: 42
    cgroups: x
    container_ids: [1]
`),
      `ids.yaml:2:16: workloads[0].spiffe_id: expected a SPIFFE ID
  - spiffe_id: 42
               ^
ids.yaml:3:14: workloads[0].cgroups: expected a list
    cgroups: x
             ^
ids.yaml:4:21: workloads[0].container_ids: expected strings
    container_ids: [1]
                    ^`,
    );
  });

  it('malformed YAML and duplicate keys', () => {
    assert.equal(
      errorOf(`workloads:
  - spiffe_id: spiffe://example.org/a
    spiffe_id: spiffe://example.org/b
`),
      `ids.yaml:3:5: malformed YAML: Map keys must be unique
    spiffe_id: spiffe://example.org/b
    ^`,
    );
    assert.match(errorOf('workloads: [\n'), /^ids\.yaml:2:1: malformed YAML: /);
  });

  // Regression: a bad item of a cgroups, container_ids or addresses list was
  // reported at the start of the list; in a block list that is the wrong LINE
  // (the first item's), pointing the user at a valid entry. The rules loader
  // puts the ^ under the faulty item (test/agent/rules/load.test.ts).
  it('a bad list item is reported where it is (its own line, the ^ under it)', () => {
    assert.equal(
      errorOf(`workloads:
  - spiffe_id: spiffe://example.org/api
    cgroups: [a, "b***"]
`),
      `ids.yaml:3:18: workloads[0].cgroups: "b***": more than two * in a row
    cgroups: [a, "b***"]
                 ^`,
    );
    assert.equal(
      errorOf(`workloads:
  - spiffe_id: spiffe://example.org/api
    cgroups:
      - vigil/api
      - "vigil/***"
    addresses:
      - 10.0.0.1
      - 10.0.0.0/33
`),
      `ids.yaml:5:9: workloads[0].cgroups: "vigil/***": more than two * in a row
      - "vigil/***"
        ^
ids.yaml:8:9: workloads[0].addresses: "10.0.0.0/33" is not an IP address or CIDR block
      - 10.0.0.0/33
        ^`,
    );
  });
});

describe('static identities: images', () => {
  const D = `sha256:${'0a'.repeat(32)}`;
  it('image: name, tag and digest of the workload a cgroup or container belongs to', () => {
    const s = parse(`workloads:
  - spiffe_id: spiffe://example.org/a
    cgroups: [a]
    image: registry.example.org/team/a:2.1@${D}
  - spiffe_id: spiffe://example.org/b
    container_ids: [${CTR.slice(0, 12)}]
    image: ${D}
  - spiffe_id: spiffe://example.org/c
    cgroups: [c]
`);
    assert.deepEqual(s.imageFor(facts('/a/x')), { name: 'registry.example.org/team/a', tag: '2.1', digest: D });
    assert.deepEqual(s.imageFor({ ...facts('/elsewhere'), containerId: CTR }), { name: null, tag: null, digest: D });
    assert.equal(s.imageFor(facts('/c')), null, 'no image said');
    assert.equal(s.imageFor(facts('/nowhere')), null);
  });

  it('a bad image reference is an error at its position', () => {
    assert.equal(
      errorOf(`workloads:
  - spiffe_id: spiffe://example.org/a
    cgroups: [a]
    image: Registry/UPPER@sha256:123
`),
      `ids.yaml:4:12: workloads[0].image: "Registry/UPPER@sha256:123": the digest after "@" must be sha256: and 64 lowercase hex digits
    image: Registry/UPPER@sha256:123
           ^`,
    );
  });
});
