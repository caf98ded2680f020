import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { CgroupResolver, cgroupDir, cgroupIdOf, findCgroup2Mount } from '../../../agent/kernel/cgroupfs';
import { VigilError } from '../../../common/errors';
import type { CgroupEvent } from '../../../agent/decode/events';
import { Probe } from '../../../agent/kernel/probe';
import { CgroupSandbox, EventLog, requireKernelTestPrivileges } from '../../helpers/kernel';

describe('cgroup v2 discovery and id resolution', () => {
  it('finds the cgroup2 mount in a hybrid and a unified mount table', () => {
    const hybrid = [
      'tmpfs /sys/fs/cgroup tmpfs rw 0 0',
      'cgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0',
      'cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0',
    ].join('\n');
    assert.equal(findCgroup2Mount(hybrid), '/sys/fs/cgroup/unified');
    assert.equal(findCgroup2Mount('cgroup2 /sys/fs/cgroup cgroup2 rw,nsdelegate 0 0\n'), '/sys/fs/cgroup');
    assert.equal(findCgroup2Mount('none /mnt/with\\040space cgroup2 rw 0 0\n'), '/mnt/with space');
  });

  it('says what is missing when there is no cgroup2 mount', () => {
    assert.throws(
      () => findCgroup2Mount('cgroup /sys/fs/cgroup/cpu cgroup rw 0 0\n'),
      (e: unknown) => e instanceof VigilError && e.code === 'NO_CGROUP2' && /no cgroup2 filesystem/.test(e.message),
    );
  });

  describe('on this machine', () => {
    let sb: CgroupSandbox;
    before(() => {
      requireKernelTestPrivileges();
      sb = CgroupSandbox.create('cgroup');
    });
    after(async () => {
      if (sb) await sb.cleanup();
    });

    it('resolves a cgroup id to its path, and a removed one to null', () => {
      const child = sb.child('a/b');
      const r = new CgroupResolver(sb.root);
      assert.equal(r.resolve(child.id), child.rel);
      assert.equal(r.resolve(1), '/');
      const gone = sb.child('gone');
      fs.rmdirSync(gone.dir);
      assert.equal(new CgroupResolver(sb.root).resolve(gone.id), null);
    });

    it('the kernel names a new cgroup by its path at mkdir, so one removed at once keeps its identity', async function () {
      this.timeout(15000);
      const probe = Probe.load({ kinds: ['exec'], manualScope: true, loadAll: true });
      try {
        const log = new EventLog();
        probe.start((evs) => log.all.push(...evs));
        await new Promise((r) => setTimeout(r, 50));
        // a short-lived container: created and gone before user space could resolve its id
        const name = 'kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0b8c1f38_8f7e_4f5a_9d1c_2a7e4c1b9d00.slice';
        const pod = sb.child(name);
        const ctr = sb.child(`${name}/cri-containerd-${'ab'.repeat(32)}.scope`);
        fs.rmdirSync(ctr.dir);
        const deadline = Date.now() + 5000;
        let ev: CgroupEvent | undefined;
        while (!ev && Date.now() < deadline) {
          ev = log.all.find((e): e is CgroupEvent => e.kind === 'cgroup' && e.id === ctr.id);
          if (!ev) await new Promise((r) => setTimeout(r, 10));
        }
        assert.ok(ev, 'no cgroup event for the container cgroup');
        assert.equal(ev.path, ctr.rel);
        assert.equal(ev.parentId, pod.id);
        assert.equal(new CgroupResolver(sb.root).resolve(ctr.id), null, 'the id no longer resolves: only the event has the path');
      } finally {
        await probe.close();
      }
    });

    it('accepts a cgroup given relative to the root or absolute, and rejects a missing one', () => {
      const child = sb.child('rel');
      assert.equal(cgroupDir(sb.root, child.rel), child.dir);
      assert.equal(cgroupDir(sb.root, child.dir), child.dir);
      assert.equal(cgroupIdOf(child.dir), child.id);
      assert.throws(() => cgroupDir(sb.root, '/no/such/cgroup'), /does not exist/);
    });
  });
});
