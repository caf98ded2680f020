// IP addresses and CIDR blocks as bytes: for rule matching in JS and for
// the kernel's LPM tries.
import * as net from 'node:net';

export interface Cidr {
  family: 4 | 6;
  /** 4 or 16 bytes, host bits cleared */
  addr: Uint8Array;
  prefix: number;
  text: string;
}

export function parseIp(s: string): { family: 4 | 6; addr: Uint8Array } | null {
  // zone ids (fe80::1%eth0) name an interface, not an address: refused
  if (s.includes('%')) return null;
  const kind = net.isIP(s);
  if (kind === 4) {
    const parts = s.split('.').map(Number);
    return { family: 4, addr: Uint8Array.from(parts) };
  }
  if (kind === 6) {
    let text = s;
    const out = new Uint8Array(16);
    // an embedded IPv4 tail (::ffff:1.2.3.4)
    const v4tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
    let tail: number[] = [];
    if (v4tail) {
      tail = v4tail[1].split('.').map(Number);
      text = text.slice(0, text.length - v4tail[1].length) + '0:0';
    }
    const [head, rest] = text.includes('::') ? text.split('::') : [text, undefined];
    const hw = head ? head.split(':') : [];
    const rw = rest !== undefined && rest !== '' ? rest.split(':') : [];
    const words = rest === undefined ? hw : [...hw, ...new Array<string>(8 - hw.length - rw.length).fill('0'), ...rw];
    words.forEach((w, i) => {
      const v = parseInt(w, 16);
      out[2 * i] = v >> 8;
      out[2 * i + 1] = v & 0xff;
    });
    if (tail.length) out.set(tail, 12);
    return { family: 6, addr: out };
  }
  return null;
}

/** An IPv4-mapped IPv6 address (::ffff:a.b.c.d): an AF_INET6 socket reaching an IPv4 host. */
export function isV4Mapped(family: 4 | 6, addr: Uint8Array): boolean {
  if (family !== 6 || addr.length !== 16) return false;
  for (let i = 0; i < 10; i++) if (addr[i] !== 0) return false;
  return addr[10] === 0xff && addr[11] === 0xff;
}

/** "10.0.0.0/8", "2001:db8::/32", or a plain address (a /32 or /128). null if invalid. An IPv4-mapped block (::ffff:10.0.0.0/104) is its IPv4 block (10.0.0.0/8). */
export function parseCidr(s: string): Cidr | null {
  const slash = s.indexOf('/');
  const ipText = slash < 0 ? s : s.slice(0, slash);
  const ip = parseIp(ipText);
  if (!ip) return null;
  const max = ip.family === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return null;
    prefix = Number(p);
    if (prefix > max) return null;
  }
  if (isV4Mapped(ip.family, ip.addr) && prefix >= 96) {
    // the same hosts as an IPv4 block: matched as IPv4 wherever it is used, in the kernel too
    const v4 = Uint8Array.from(ip.addr.subarray(12));
    for (let bit = prefix - 96; bit < 32; bit++) v4[bit >> 3] &= ~(0x80 >> (bit & 7));
    return { family: 4, addr: v4, prefix: prefix - 96, text: s };
  }
  const addr = Uint8Array.from(ip.addr);
  for (let bit = prefix; bit < max; bit++) addr[bit >> 3] &= ~(0x80 >> (bit & 7));
  return { family: ip.family, addr, prefix, text: s };
}

/** Does the address fall in the block? An IPv4-mapped IPv6 address is matched as the IPv4 address it reaches. */
export function cidrContains(c: Cidr, family: 4 | 6, addr: Uint8Array): boolean {
  if (c.family === 4 && isV4Mapped(family, addr)) return cidrContains(c, 4, addr.subarray(12));
  if (c.family !== family) return false;
  const full = c.prefix >> 3;
  for (let i = 0; i < full; i++) if (addr[i] !== c.addr[i]) return false;
  const rem = c.prefix & 7;
  if (rem === 0) return true;
  const mask = (0xff << (8 - rem)) & 0xff;
  return (addr[full] & mask) === c.addr[full];
}

/** The block's one canonical text: "10.1.0.0/16", "2001:db8::/32" (host bits cleared, IPv6 compressed by Node). */
export function formatCidr(c: Cidr): string {
  if (c.family === 4) return `${[...c.addr].join('.')}/${c.prefix}`;
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((c.addr[i] << 8) | c.addr[i + 1]).toString(16));
  return `${new net.SocketAddress({ address: words.join(':'), family: 'ipv6' }).address}/${c.prefix}`;
}
