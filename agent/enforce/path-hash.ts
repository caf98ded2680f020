// The path hash the kernel computes (bpf/lib/rules.h), reproduced here so
// that rules can name paths the kernel looks up. FNV-1a over 8-byte
// little-endian words, the last one zero-padded: a word at a time is what
// a BPF program can afford. A directory prefix is hashed with its "/".

const OFFSET = 0xcbf29ce484222325n;
const PRIME = 0x100000001b3n;

export function pathHash(path: string): bigint {
  const b = Buffer.from(path, 'utf8');
  let h = OFFSET;
  for (let i = 0; i < b.length; i += 8) {
    let w = 0n;
    for (let j = 7; j >= 0; j--) w = (w << 8n) | BigInt(i + j < b.length ? b[i + j] : 0);
    h = BigInt.asUintN(64, (h ^ w) * PRIME);
  }
  return h;
}

/** Number of "/" in a directory prefix minus one: "/" is 0, "/etc/" is 1, "/usr/bin/" is 2. */
export function prefixDepth(prefix: string): number {
  let n = 0;
  for (const c of prefix) if (c === '/') n++;
  return n - 1;
}
