import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { CgroupResolver, cgroupDir, cgroupIdOf, findCgroup2Mount } from '../../agent/cgroup';
import { VigilError } from '../../agent/errors';
import { CgroupSandbox, requireKernelTestPrivileges } from '../helpers/kernel';

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

    it('accepts a cgroup given relative to the root or absolute, and rejects a missing one', () => {
      const child = sb.child('rel');
      assert.equal(cgroupDir(sb.root, child.rel), child.dir);
      assert.equal(cgroupDir(sb.root, child.dir), child.dir);
      assert.equal(cgroupIdOf(child.dir), child.id);
      assert.throws(() => cgroupDir(sb.root, '/no/such/cgroup'), /does not exist/);
    });
  });
});
