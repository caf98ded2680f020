// The Merkle tree of a transparency log, RFC 6962 section 2.1 (RFC 9162
// section 2.1): leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || left ||
// right), the root of an empty tree = SHA-256(""). Proofs are built from the
// hashes of perfect, aligned subtrees (whoever holds the log supplies them:
// PerfectNodes) and checked with the verification algorithms of RFC 9162
// 2.1.3.2 (inclusion) and 2.1.4.2 (consistency), so that a verifier needs
// nothing but the proof, the sizes and the roots.
//
// Hand-written: the npm Merkle libraries are blockchain trees (sorted pairs,
// duplicated odd leaves, keccak) or Sigstore's verify-only internals (no
// consistency proofs, no tree building); none builds RFC 6962 proofs.
// Sizes are JavaScript numbers (exact to 2^53): no 32-bit bit operations.
import { createHash } from 'node:crypto';

export const HASH_SIZE = 32;

export const EMPTY_ROOT: Buffer = createHash('sha256').digest();

export function hashLeaf(data: Uint8Array): Buffer {
  return createHash('sha256').update(Buffer.from([0])).update(data).digest();
}

export function hashChildren(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(Buffer.from([1])).update(left).update(right).digest();
}

/** The hash of a perfect subtree: leaves [index * 2^level, (index + 1) * 2^level). */
export interface PerfectNodes {
  perfect(level: number, index: number): Buffer;
}

/** The largest power of two smaller than n (n > 1). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

/** MTH(D[start:start+n]) of RFC 6962: left parts are always perfect and aligned. */
export function subtreeHash(src: PerfectNodes, start: number, n: number): Buffer {
  if (n === 0) return EMPTY_ROOT;
  if (isPowerOfTwo(n) && start % n === 0) return src.perfect(Math.log2(n), start / n);
  const k = splitPoint(n);
  return hashChildren(subtreeHash(src, start, k), subtreeHash(src, start + k, n - k));
}

/** PATH(m, D[n]) of RFC 6962 2.1.1: the audit path of leaf `index` in the tree of `size` leaves. */
export function inclusionProof(src: PerfectNodes, index: number, size: number): Buffer[] {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
    throw new RangeError(`inclusion proof: leaf ${index} is not in a tree of ${size} leaves`);
  }
  const path = (m: number, start: number, n: number): Buffer[] => {
    if (n === 1) return [];
    const k = splitPoint(n);
    return m < k ? [...path(m, start, k), subtreeHash(src, start + k, n - k)] : [...path(m - k, start + k, n - k), subtreeHash(src, start, k)];
  };
  return path(index, 0, size);
}

/** PROOF(m, D[n]) of RFC 6962 2.1.2: that the tree of `size1` leaves is a prefix of the tree of `size2`. */
export function consistencyProof(src: PerfectNodes, size1: number, size2: number): Buffer[] {
  if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2) || size1 < 0 || size1 > size2) {
    throw new RangeError(`consistency proof: from ${size1} to ${size2} leaves is not growth`);
  }
  if (size1 === 0 || size1 === size2) return [];
  const sub = (m: number, start: number, n: number, whole: boolean): Buffer[] => {
    if (m === n) return whole ? [] : [subtreeHash(src, start, n)];
    const k = splitPoint(n);
    return m <= k
      ? [...sub(m, start, k, whole), subtreeHash(src, start + k, n - k)]
      : [...sub(m - k, start + k, n - k, false), subtreeHash(src, start, k)];
  };
  return sub(size1, 0, size2, true);
}

/** Why a proof does not verify; thrown by the verifiers below. */
export class ProofError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProofError';
  }
}

/** No honest proof of a tree of up to 2^53 leaves has more hashes (inclusion: 53; consistency: at most twice that). */
export const MAX_PROOF_HASHES = 2 * 53 + 2;

function checkLength(proof: readonly Uint8Array[]): void {
  if (proof.length > MAX_PROOF_HASHES) throw new ProofError(`the proof has ${proof.length} hashes, more than any tree needs (${MAX_PROOF_HASHES})`);
}

function checkHash(what: string, h: Uint8Array): void {
  if (h.length !== HASH_SIZE) throw new ProofError(`${what} is ${h.length} bytes, not ${HASH_SIZE}`);
}

/** The root an inclusion proof leads to (RFC 9162 2.1.3.2, steps 1-4). */
export function rootFromInclusionProof(index: number, size: number, leafHash: Uint8Array, proof: readonly Uint8Array[]): Buffer {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
    throw new ProofError(`leaf ${index} is not in a tree of ${size} leaves`);
  }
  checkHash('the leaf hash', leafHash);
  checkLength(proof);
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leafHash);
  for (const [i, p] of proof.entries()) {
    checkHash(`proof hash ${i}`, p);
    if (sn === 0) throw new ProofError(`the proof is too long (${proof.length} hashes)`);
    if (fn % 2 === 1 || fn === sn) {
      r = hashChildren(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = hashChildren(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new ProofError(`the proof is too short (${proof.length} hashes)`);
  return r;
}

/** Check an inclusion proof against a root (RFC 9162 2.1.3.2); throws ProofError. */
export function verifyInclusion(index: number, size: number, leafHash: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): void {
  checkHash('the root', root);
  const got = rootFromInclusionProof(index, size, leafHash, proof);
  if (!got.equals(root)) throw new ProofError(`leaf ${index} with this proof gives root ${got.toString('base64')}, not ${Buffer.from(root).toString('base64')}`);
}

/** Check a consistency proof between two tree heads (RFC 9162 2.1.4.2); throws ProofError. */
export function verifyConsistency(size1: number, size2: number, proof: readonly Uint8Array[], root1: Uint8Array, root2: Uint8Array): void {
  if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2) || size1 < 0 || size2 < 0) throw new ProofError(`tree sizes ${size1} and ${size2} are not sizes`);
  if (size2 < size1) throw new ProofError(`the tree shrank from ${size1} to ${size2} leaves`);
  if (size1 === size2) {
    if (proof.length) throw new ProofError('a proof between trees of the same size must be empty');
    if (!Buffer.from(root1).equals(root2)) throw new ProofError(`two different roots for the same size ${size1}`);
    return;
  }
  if (size1 === 0) {
    if (proof.length) throw new ProofError('a proof from the empty tree must be empty');
    return;
  }
  if (proof.length === 0) throw new ProofError('the proof is empty');
  checkLength(proof);
  checkHash('the first root', root1);
  checkHash('the second root', root2);
  proof.forEach((p, i) => checkHash(`proof hash ${i}`, p));
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr: Buffer = Buffer.from(path[0]);
  let sr: Buffer = Buffer.from(path[0]);
  for (const c of path.slice(1)) {
    if (sn === 0) throw new ProofError(`the proof is too long (${proof.length} hashes)`);
    if (fn % 2 === 1 || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new ProofError(`the proof is too short (${proof.length} hashes)`);
  if (!fr.equals(root1)) throw new ProofError(`the proof does not lead to the first tree's root: its first ${size1} leaves were changed`);
  if (!sr.equals(root2)) throw new ProofError(`the proof does not lead to the second tree's root`);
}

/** A perfect subtree completed by an append: store it to answer proofs later. */
export interface CompletedNode {
  level: number;
  index: number;
  hash: Buffer;
}

/**
 * The right edge of a growing tree (a compact range from 0): one hash per
 * set bit of the size, so that appending is O(1) amortized and the root is
 * O(log n), whatever the size.
 */
export class TreeFrontier {
  /** perfect subtrees from the left, largest first: [level, hash] */
  private nodes: [number, Buffer][] = [];
  private n = 0;

  get size(): number {
    return this.n;
  }

  /** Append a leaf hash; returns the perfect subtrees (level >= 1) it completed, lowest first. */
  append(leafHash: Buffer): CompletedNode[] {
    const done: CompletedNode[] = [];
    let level = 0;
    let h = leafHash;
    let index = this.n;
    while (this.nodes.length && this.nodes[this.nodes.length - 1][0] === level) {
      const [, left] = this.nodes.pop() as [number, Buffer];
      h = hashChildren(left, h);
      level++;
      index = Math.floor(index / 2);
      done.push({ level, index, hash: h });
    }
    this.nodes.push([level, h]);
    this.n++;
    return done;
  }

  root(): Buffer {
    if (this.nodes.length === 0) return EMPTY_ROOT;
    let r = this.nodes[this.nodes.length - 1][1];
    for (let i = this.nodes.length - 2; i >= 0; i--) r = hashChildren(this.nodes[i][1], r);
    return r;
  }

  clone(): TreeFrontier {
    const t = new TreeFrontier();
    t.nodes = this.nodes.slice();
    t.n = this.n;
    return t;
  }
}

/** The root of a list of leaf hashes. */
export function rootOf(leafHashes: Iterable<Buffer>): Buffer {
  const f = new TreeFrontier();
  for (const h of leafHashes) f.append(h);
  return f.root();
}

/** Perfect subtrees of leaf hashes held in memory (offline checks, tests, small logs). */
export class LeafHashes implements PerfectNodes {
  constructor(readonly leaves: readonly Buffer[]) {}

  perfect(level: number, index: number): Buffer {
    const width = 2 ** level;
    const start = index * width;
    if (start + width > this.leaves.length) throw new RangeError(`no perfect subtree at level ${level} index ${index} in ${this.leaves.length} leaves`);
    if (level === 0) return this.leaves[start];
    return hashChildren(this.perfect(level - 1, index * 2), this.perfect(level - 1, index * 2 + 1));
  }
}

/** Every perfect subtree of a list of leaf hashes, built once (O(n) hashes): proofs of many entries at once. */
export class MemoryTree implements PerfectNodes {
  private readonly levels: Buffer[][];

  constructor(leaves: readonly Buffer[]) {
    this.levels = [leaves.slice()];
    for (let l = 0; this.levels[l].length > 1; l++) {
      const below = this.levels[l];
      const up: Buffer[] = [];
      for (let i = 0; i + 1 < below.length; i += 2) up.push(hashChildren(below[i], below[i + 1]));
      this.levels.push(up);
    }
  }

  get size(): number {
    return this.levels[0].length;
  }

  perfect(level: number, index: number): Buffer {
    const h = this.levels[level]?.[index];
    if (!h) throw new RangeError(`no perfect subtree at level ${level} index ${index} in ${this.size} leaves`);
    return h;
  }
}
