// agent/rules/reload.ts on the real kernel: the agent reloads its rules when the files change, the way a
// mounted ConfigMap changes.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AgentHarness } from '../helpers/agent';
import { requireKernelTestPrivileges } from '../helpers/kernel';
import { until } from '../helpers/wait';

describe('rules from a mounted ConfigMap (vigil agent --rules DIR)', function () {
  this.timeout(30000);
  let h: AgentHarness | undefined;
  let dir: string;

  before(requireKernelTestPrivileges);
  after(async () => {
    if (h) await h.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reloads when the kubelet swaps the ..data symlink', async () => {
    // the kubelet's layout: a timestamped directory, ..data pointing at it, each key a symlink through ..data
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-cm-'));
    const version = (name: string, rules: number): void => {
      fs.mkdirSync(path.join(dir, name));
      const body = Array.from({ length: rules }, (_, i) => `  - name: r${i}\n    on: exec\n    match: { binary: { in: [/nonexistent/${i}] } }\n`).join('');
      fs.writeFileSync(path.join(dir, name, 'rules.yaml'), `rules:\n${body}`);
    };
    version('..2026_11_25_10_00_00.000000001', 1);
    fs.symlinkSync('..2026_11_25_10_00_00.000000001', path.join(dir, '..data'));
    fs.symlinkSync('..data/rules.yaml', path.join(dir, 'rules.yaml'));
    h = await new AgentHarness('rules: []\n', null, { rules: [dir] }).start();
    assert.equal(h.agent.pipeline.getRules().rules.length, 1);
    // an update: new directory, ..data_tmp -> it, renamed over ..data, old directory removed
    version('..2026_11_25_10_05_00.000000002', 3);
    fs.symlinkSync('..2026_11_25_10_05_00.000000002', path.join(dir, '..data_tmp'));
    fs.renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
    fs.rmSync(path.join(dir, '..2026_11_25_10_00_00.000000001'), { recursive: true });
    await until('the reload', () => h?.agent.pipeline.getRules().rules.length === 3, 5000);
    assert.match(h.stderr, /rules reloaded: 3 rules/);
  });
});
