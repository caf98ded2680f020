// controlplane/reach/ingest.ts: image inventories in parts (each message under the stream's size limit) are
// stored once all parts arrived, then every part is acknowledged; parts that do not fit their set are refused.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ImageInventory__Output } from '../../../common/proto/generated/vigil/v1/ImageInventory';
import { ReachIngest } from '../../../controlplane/reach/ingest';
import { VexIssuer } from '../../../controlplane/reach/vex';
import { Store } from '../../../controlplane/store';

const D = `sha256:${'7'.repeat(64)}`;
const part = (id: string, i: number, n: number, names: string[], over: Partial<ImageInventory__Output> = {}): ImageInventory__Output => ({
  id,
  digest: D,
  name: 'registry.example/x',
  sha256: '',
  set: 'set-1',
  part: i,
  parts: n,
  components: names.map((name) => ({ ref: `dpkg:${name}`, name, version: '1', purl: `pkg:deb/debian/${name}@1`, type: 'deb', files: [{ path: `/usr/bin/${name}`, source: 'dpkg' }] })),
  ...over,
});

describe('reach ingest: inventories in parts', () => {
  let dir: string;
  let store: Store;
  let ingest: ReachIngest;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-ingest-'));
    store = new Store(path.join(dir, 'vigil.db'));
    ingest = new ReachIngest(store.reach, new VexIssuer(store.db, store.reach, (fn) => store.audited(fn), 'x'), () => undefined);
  });
  afterEach(() => {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('stores the whole set once the last part arrives (in any order), then acknowledges every part', () => {
    assert.deepEqual(ingest.inventory('n1', part('12', 2, 3, ['c'])), []);
    assert.deepEqual(ingest.inventory('n1', part('10', 0, 3, ['a'])), []);
    assert.equal(store.reach.sboms(D).length, 0, 'nothing stored before the set is whole');
    // a resent part (a new stream) changes nothing
    assert.deepEqual(ingest.inventory('n1', part('10', 0, 3, ['a'])), []);
    const acks = ingest.inventory('n1', part('11', 1, 3, ['b']));
    assert.deepEqual(acks.map((a) => [a.id, a.error]), [['10', ''], ['11', ''], ['12', '']]);
    assert.deepEqual(store.reach.components(D).map((c) => c.name), ['a', 'b', 'c']);
  });

  it('joins a package whose files came in two parts', () => {
    ingest.inventory('n1', part('20', 0, 2, ['big'], { set: 's2' }));
    const second = part('21', 1, 2, ['big'], { set: 's2' });
    second.components[0].files = [{ path: '/usr/bin/big-2', source: 'dpkg' }];
    assert.equal(ingest.inventory('n1', second).length, 2);
    assert.deepEqual(store.reach.componentFiles(D).map((c) => [c.component.name, c.files]), [['big', ['/usr/bin/big', '/usr/bin/big-2']]]);
  });

  it('refuses a part that does not fit its set, too many parts, and a bad digest', () => {
    ingest.inventory('n1', part('1', 0, 2, ['a']));
    assert.match(ingest.inventory('n1', part('2', 1, 3, ['b']))[0].error ?? '', /does not belong to the set it names/);
    assert.match(ingest.inventory('n1', part('3', 0, 100000, ['b'], { set: 'other' }))[0].error ?? '', /not a part of at most 256/);
    assert.match(ingest.inventory('n1', part('4', 0, 1, ['b'], { digest: 'sha256:zz' }))[0].error ?? '', /digest: not a sha256 digest/);
    // another node's parts are its own set
    assert.deepEqual(ingest.inventory('n2', part('5', 1, 2, ['z'])), []);
    assert.equal(store.reach.sboms(D).length, 0);
  });
});
