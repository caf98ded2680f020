// cli/up.ts: the options vigil up takes (the whole command runs in
// test/e2e/up.test.ts). --vdp-config is the same option as vigil
// controlplane's, and a bad file stops vigil up before it mints or starts
// anything.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Command } from 'commander';
import { controlplaneCommand } from '../../cli/controlplane';
import { parseUpArgs, upCommand } from '../../cli/up';
import { runVigil } from '../helpers/cli';

describe('cli/up', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-up-cli-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('--vdp-config reaches the control plane options; absent, none', () => {
    assert.equal(parseUpArgs(['--vdp-config', '/etc/vigil/vdp.yaml']).vdpConfig, '/etc/vigil/vdp.yaml');
    assert.equal(parseUpArgs([]).vdpConfig, undefined);
  });

  it('the option is the same for vigil up and vigil controlplane (one definition)', () => {
    const opt = (c: Command): { flags: string; description: string } | undefined => c.options.find((o) => o.long === '--vdp-config');
    const up = opt(upCommand());
    assert.ok(up);
    assert.deepEqual({ flags: up.flags, description: up.description }, { flags: '--vdp-config <file>', description: opt(controlplaneCommand())?.description });
    assert.match(up.description, /docs\/vdp\.md/);
  });

  it('a bad VDP configuration stops vigil up with the file and the field, before anything is written', async () => {
    const data = path.join(dir, 'data');
    fs.writeFileSync(path.join(dir, 'bad.yaml'), 'tickets:\n  - name: gh\n    type: gitlab\n');
    const bad = await runVigil('up', '--data', data, '--vdp-config', path.join(dir, 'bad.yaml'));
    assert.equal(bad.code, 2, bad.err);
    assert.equal(bad.err, `vigil up: ${path.join(dir, 'bad.yaml')}: tickets[0].type: expected one of github, jira, got "gitlab"\n`);
    const missing = await runVigil('up', '--data', data, '--vdp-config', path.join(dir, 'nope.yaml'));
    assert.equal(missing.code, 2);
    assert.equal(missing.err, `vigil up: ${path.join(dir, 'nope.yaml')}: cannot read: ENOENT\n`);
    assert.equal(fs.existsSync(data), false, 'no trust domain minted, nothing started');
  });
});
