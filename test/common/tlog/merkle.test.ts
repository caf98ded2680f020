// common/tlog/merkle.ts against the RFC 6962 test vectors that the reference
// implementations share (Certificate Transparency's and transparency-dev's):
// eight leaves, the root of every prefix, inclusion and consistency proofs;
// then every proof of small trees built and checked both ways, and corrupted
// proofs refused.
import * as assert from 'node:assert/strict';
import {
  consistencyProof,
  EMPTY_ROOT,
  hashLeaf,
  inclusionProof,
  LeafHashes,
  ProofError,
  rootOf,
  TreeFrontier,
  verifyConsistency,
  verifyInclusion,
} from '../../../common/tlog/merkle';

const h = (s: string): Buffer => Buffer.from(s, 'hex');

const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(h);
const ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
].map(h);
/** [leaf number (from 1), tree size, proof] */
const INCLUSION: [number, number, string[]][] = [
  [1, 1, []],
  [1, 8, ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4']],
  [6, 8, ['bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
  [3, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
  [2, 5, ['6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b']],
];
const CONSISTENCY: [number, number, string[]][] = [
  [1, 1, []],
  [1, 8, ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4']],
  [6, 8, ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
  [2, 5, ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b']],
  [6, 7, ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
];

const leafHashes = LEAVES.map(hashLeaf);

function flip(p: Buffer[], i: number): Buffer[] {
  return p.map((x, j) => (j === i ? Buffer.from(x.map((b, k) => (k === 0 ? b ^ 8 : b))) : x));
}

describe('tlog/merkle: RFC 6962 hashing and proofs', () => {
  it('the empty tree and the root of every prefix of the eight test leaves', () => {
    assert.equal(EMPTY_ROOT.toString('hex'), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    assert.equal(rootOf([]).toString('hex'), EMPTY_ROOT.toString('hex'));
    for (let n = 1; n <= 8; n++) assert.equal(rootOf(leafHashes.slice(0, n)).toString('hex'), ROOTS[n - 1].toString('hex'), `root of ${n}`);
  });

  it('builds the published inclusion proofs, and they verify', () => {
    for (const [leaf, size, want] of INCLUSION) {
      const src = new LeafHashes(leafHashes.slice(0, size));
      const got = inclusionProof(src, leaf - 1, size);
      assert.deepEqual(got.map((x) => x.toString('hex')), want, `leaf ${leaf} of ${size}`);
      verifyInclusion(leaf - 1, size, leafHashes[leaf - 1], want.map(h), ROOTS[size - 1]);
    }
  });

  it('builds the published consistency proofs, and they verify', () => {
    for (const [m, n, want] of CONSISTENCY) {
      const got = consistencyProof(new LeafHashes(leafHashes.slice(0, n)), m, n);
      assert.deepEqual(got.map((x) => x.toString('hex')), want, `${m} -> ${n}`);
      verifyConsistency(m, n, want.map(h), ROOTS[m - 1], ROOTS[n - 1]);
    }
  });

  it('refuses corrupted inclusion proofs: wrong index, size, leaf, root, extra, missing or flipped hashes', () => {
    const [leaf, size, want] = INCLUSION[2];
    const p = want.map(h);
    const i = leaf - 1;
    const root = ROOTS[size - 1];
    const bad: [string, () => void][] = [
      ['index - 1', () => verifyInclusion(i - 1, size, leafHashes[i], p, root)],
      ['index + 1', () => verifyInclusion(i + 1, size, leafHashes[i], p, root)],
      ['size * 2', () => verifyInclusion(i, size * 2, leafHashes[i], p, root)],
      ['size / 2', () => verifyInclusion(i, size / 2, leafHashes[i], p, root)],
      ['index past the size', () => verifyInclusion(size, size, leafHashes[i], p, root)],
      ['another leaf', () => verifyInclusion(i, size, leafHashes[i + 1], p, root)],
      ['a short leaf hash', () => verifyInclusion(i, size, Buffer.from('WrongLeaf'), p, root)],
      ['the empty root', () => verifyInclusion(i, size, leafHashes[i], p, EMPTY_ROOT)],
      ['trailing root', () => verifyInclusion(i, size, leafHashes[i], [...p, root], root)],
      ['preceding root', () => verifyInclusion(i, size, leafHashes[i], [root, ...p], root)],
      ['removed hash', () => verifyInclusion(i, size, leafHashes[i], p.slice(0, -1), root)],
      ...p.map((_, k): [string, () => void] => [`flipped bit in hash ${k}`, () => verifyInclusion(i, size, leafHashes[i], flip(p, k), root)]),
    ];
    for (const [what, f] of bad) assert.throws(f, ProofError, what);
  });

  it('refuses corrupted consistency proofs: wrong sizes, swapped or wrong roots, empty, extra, truncated, flipped', () => {
    const [m, n, want] = CONSISTENCY[2];
    const p = want.map(h);
    const r1 = ROOTS[m - 1];
    const r2 = ROOTS[n - 1];
    const bad: [string, () => void][] = [
      ['size1 - 1', () => verifyConsistency(m - 1, n, p, r1, r2)],
      ['size1 + 1', () => verifyConsistency(m + 1, n, p, r1, r2)],
      ['size2 * 2', () => verifyConsistency(m, n * 2, p, r1, r2)],
      ['size2 / 2', () => verifyConsistency(m, n / 2, p, r1, r2)],
      ['shrinking', () => verifyConsistency(n, m, p, r2, r1)],
      ['swapped roots', () => verifyConsistency(m, n, p, r2, r1)],
      ['wrong root1', () => verifyConsistency(m, n, p, ROOTS[4], r2)],
      ['wrong root2', () => verifyConsistency(m, n, p, r1, ROOTS[6])],
      ['empty proof', () => verifyConsistency(m, n, [], r1, r2)],
      ['trailing root', () => verifyConsistency(m, n, [...p, r2], r1, r2)],
      ['preceding hash', () => verifyConsistency(m, n, [p[0], ...p], r1, r2)],
      ['truncated', () => verifyConsistency(m, n, p.slice(0, -1), r1, r2)],
      ['same size, other root', () => verifyConsistency(m, m, [], r1, r2)],
      ...p.map((_, k): [string, () => void] => [`flipped bit in hash ${k}`, () => verifyConsistency(m, n, flip(p, k), r1, r2)]),
    ];
    for (const [what, f] of bad) assert.throws(f, ProofError, what);
    // a hostile proof of a million hashes is refused before any hashing
    const huge = Array.from({ length: 1_000_000 }, () => p[0]);
    assert.throws(() => verifyConsistency(m, n, huge, r1, r2), /more than any tree needs/);
    assert.throws(() => verifyInclusion(0, 8, leafHashes[0], huge, ROOTS[7]), /more than any tree needs/);
    // always consistent: from the empty tree, and a tree with itself
    verifyConsistency(0, n, [], EMPTY_ROOT, r2);
    verifyConsistency(n, n, [], r2, r2);
  });

  it('every inclusion and consistency proof of every tree up to 48 leaves verifies (and a rewritten leaf breaks them)', () => {
    const leaves = Array.from({ length: 48 }, (_, i) => hashLeaf(Buffer.from(`entry ${i}`)));
    const src = new LeafHashes(leaves);
    const roots = [EMPTY_ROOT, ...leaves.map((_, i) => rootOf(leaves.slice(0, i + 1)))];
    const frontier = new TreeFrontier();
    for (let n = 1; n <= 48; n++) {
      frontier.append(leaves[n - 1]);
      assert.equal(frontier.root().toString('hex'), roots[n].toString('hex'), `frontier root ${n}`);
      for (let i = 0; i < n; i++) verifyInclusion(i, n, leaves[i], inclusionProof(src, i, n), roots[n]);
      for (let m = 0; m <= n; m++) verifyConsistency(m, n, consistencyProof(src, m, n), roots[m], roots[n]);
    }
    // a log whose leaf 10 was rewritten (and every hash recomputed) is not consistent with the old head
    const rewritten = leaves.slice();
    rewritten[10] = hashLeaf(Buffer.from('forged'));
    const rsrc = new LeafHashes(rewritten);
    const newRoot = rootOf(rewritten);
    assert.throws(() => verifyConsistency(40, 48, consistencyProof(rsrc, 40, 48), roots[40], newRoot), ProofError);
    // a rewrite after the old head is fine: only what was committed to is protected
    verifyConsistency(10, 48, consistencyProof(rsrc, 10, 48), roots[10], newRoot);
  });

  it('reports the perfect subtrees an append completes (what the control plane keeps to answer proofs)', () => {
    const f = new TreeFrontier();
    const done = Array.from({ length: 8 }, (_, i) => f.append(leafHashes[i]).map((n) => `${n.level}/${n.index}`));
    assert.deepEqual(done, [[], ['1/0'], [], ['1/1', '2/0'], [], ['1/2'], [], ['1/3', '2/1', '3/0']]);
    const src = new LeafHashes(leafHashes);
    const last = new TreeFrontier();
    let top: Buffer | undefined;
    for (const x of leafHashes) for (const n of last.append(x)) if (n.level === 3) top = n.hash;
    assert.equal(top?.toString('hex'), src.perfect(3, 0).toString('hex'));
  });
});
