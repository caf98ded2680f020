// agent/workload/cgroup-sync.ts
import * as assert from 'node:assert/strict';
import { privateCgroupNamespace } from '../../../agent/workload/cgroup-sync';

describe('cgroup namespace', () => {
  it('tells a private cgroup namespace (a container\'s) from the node\'s', () => {
    assert.equal(privateCgroupNamespace(() => '0::/init.scope\n'), false);
    assert.equal(privateCgroupNamespace(() => '0::/\n'), false);
    assert.equal(privateCgroupNamespace(() => '0::/../../../init.scope\n'), true);
    assert.equal(privateCgroupNamespace(() => '0::/..\n'), true);
  });
});
