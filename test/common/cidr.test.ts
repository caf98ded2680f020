// IP addresses and CIDR blocks as bytes: every IPv4 and IPv6 text form the
// rules and identities files may hold, what is refused, the host bits
// cleared, and containment across families and odd prefix lengths.
import * as assert from 'node:assert/strict';
import { cidrContains, parseCidr, parseIp, type Cidr } from '../../common/cidr';

/** The bytes of an address as hex, for readable comparisons. */
function hex(a: Uint8Array): string {
  return Buffer.from(a).toString('hex');
}

function ip(s: string): { family: 4 | 6; hex: string } | null {
  const r = parseIp(s);
  return r === null ? null : { family: r.family, hex: hex(r.addr) };
}

function cidr(s: string): Cidr {
  const c = parseCidr(s);
  assert.ok(c, `${s} should parse`);
  return c;
}

/** Does the block contain the address (both given as text)? */
function contains(block: string, addr: string): boolean {
  const a = parseIp(addr);
  assert.ok(a, `${addr} should parse`);
  return cidrContains(cidr(block), a.family, a.addr);
}

describe('cidr: parseIp', () => {
  it('IPv4: four bytes in network order', () => {
    assert.deepEqual(ip('10.0.0.1'), { family: 4, hex: '0a000001' });
    assert.deepEqual(ip('255.255.255.255'), { family: 4, hex: 'ffffffff' });
    assert.deepEqual(ip('0.0.0.0'), { family: 4, hex: '00000000' });
    assert.equal(parseIp('10.0.0.1')?.addr.length, 4);
  });

  it('IPv6: "::" in every position, and all eight groups written out', () => {
    assert.deepEqual(ip('::'), { family: 6, hex: '0'.repeat(32) });
    assert.deepEqual(ip('::1'), { family: 6, hex: '0'.repeat(31) + '1' });
    assert.deepEqual(ip('1::'), { family: 6, hex: '0001' + '0'.repeat(28) });
    assert.deepEqual(ip('1:2::'), { family: 6, hex: '00010002' + '0'.repeat(24) });
    assert.deepEqual(ip('1::2:3'), { family: 6, hex: '0001' + '0'.repeat(20) + '00020003' });
    assert.deepEqual(ip('2001:db8::8a2e:370:7334'), { family: 6, hex: '20010db80000000000008a2e03707334' });
    assert.deepEqual(ip('1:2:3:4:5:6:7:8'), { family: 6, hex: '00010002000300040005000600070008' });
    assert.deepEqual(ip('fe80:0:0:0:0:0:0:1'), ip('fe80::1'));
    assert.equal(parseIp('::1')?.addr.length, 16);
  });

  it('IPv6 hex digits in either case give the same bytes', () => {
    assert.deepEqual(ip('FFFF::ABCD'), ip('ffff::abcd'));
    assert.deepEqual(ip('ffff::abcd'), { family: 6, hex: 'ffff' + '0'.repeat(24) + 'abcd' });
  });

  it('IPv6 with an embedded IPv4 tail: ::ffff:1.2.3.4, ::1.2.3.4, 64:ff9b::1.2.3.4, six groups + IPv4', () => {
    assert.deepEqual(ip('::ffff:1.2.3.4'), { family: 6, hex: '00000000000000000000ffff01020304' });
    assert.deepEqual(ip('::1.2.3.4'), { family: 6, hex: '00000000000000000000000001020304' });
    assert.deepEqual(ip('64:ff9b::1.2.3.4'), { family: 6, hex: '0064ff9b000000000000000001020304' });
    assert.deepEqual(ip('1:2:3:4:5:6:1.2.3.4'), { family: 6, hex: '00010002000300040005000601020304' });
    // the same address written with hex groups
    assert.deepEqual(ip('::ffff:102:304'), ip('::ffff:1.2.3.4'));
  });

  it('refuses zone ids: they name an interface, not an address', () => {
    assert.equal(parseIp('fe80::1%eth0'), null);
    assert.equal(parseIp('fe80::1%25eth0'), null);
    assert.equal(parseIp('fe80::1%1'), null);
    assert.notEqual(parseIp('fe80::1'), null, 'the same address without a zone is fine');
  });

  it('refuses what is not an address', () => {
    for (const s of [
      '',
      'localhost',
      '1.2.3',
      '1.2.3.4.5',
      '256.1.1.1',
      '01.2.3.4', // leading zeros: octal to some parsers, refused
      ' 1.2.3.4',
      '1.2.3.4 ',
      '1.2.3.4/32', // a block is not an address
      ':::',
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7',
      '12345::',
      'g::1',
      '::ffff:01.2.3.4',
      '::ffff:1.2.3.256',
    ]) {
      assert.equal(parseIp(s), null, JSON.stringify(s));
    }
  });
});

describe('cidr: parseCidr', () => {
  it('a plain address is a /32 or a /128, and keeps its text', () => {
    const v4 = cidr('192.0.2.7');
    assert.deepEqual({ ...v4, addr: hex(v4.addr) }, { family: 4, addr: 'c0000207', prefix: 32, text: '192.0.2.7' });
    const v6 = cidr('2001:db8::7');
    assert.deepEqual({ ...v6, addr: hex(v6.addr) }, { family: 6, addr: '20010db8' + '0'.repeat(20) + '0007', prefix: 128, text: '2001:db8::7' });
  });

  it('clears the host bits, byte-aligned or not', () => {
    assert.equal(hex(cidr('10.1.2.3/8').addr), '0a000000');
    assert.equal(hex(cidr('10.255.255.255/12').addr), '0af00000');
    assert.equal(hex(cidr('192.168.77.200/26').addr), 'c0a84dc0');
    assert.equal(hex(cidr('10.1.2.3/0').addr), '00000000');
    assert.equal(hex(cidr('2001:db8:ffff::1/32').addr), '20010db8' + '0'.repeat(24));
    assert.equal(hex(cidr('febf:ffff::1/10').addr), 'fe80' + '0'.repeat(28));
    assert.equal(hex(cidr('ffff::/0').addr), '0'.repeat(32));
    // the text stays as written (it is what alerts and the control plane show)
    assert.equal(cidr('10.1.2.3/8').text, '10.1.2.3/8');
  });

  it('accepts every prefix length of the family, and no more', () => {
    assert.equal(cidr('10.0.0.0/0').prefix, 0);
    assert.equal(cidr('10.0.0.0/32').prefix, 32);
    assert.equal(cidr('::/0').prefix, 0);
    assert.equal(cidr('::/128').prefix, 128);
    assert.equal(parseCidr('10.0.0.0/33'), null);
    assert.equal(parseCidr('::/129'), null);
    // a v6 length is not a v4 one
    assert.equal(parseCidr('10.0.0.0/64'), null);
    assert.equal(cidr('::/64').prefix, 64);
  });

  it('refuses prefix text that is not 1 to 3 decimal digits', () => {
    for (const s of ['10.0.0.0/', '10.0.0.0/-1', '10.0.0.0/+8', '10.0.0.0/ 8', '10.0.0.0/8 ', '10.0.0.0/1e1', '10.0.0.0/0x8', '10.0.0.0/8/9', '10.0.0.0/0008', '/8', '::/-0']) {
      assert.equal(parseCidr(s), null, JSON.stringify(s));
    }
  });

  it('accepts leading zeros in the prefix (up to three digits): /08 is /8', () => {
    // what the code does (/^\d{1,3}$/): unlike the address, the length may be zero-padded
    assert.equal(cidr('10.0.0.0/08').prefix, 8);
    assert.equal(cidr('10.0.0.0/008').prefix, 8);
    assert.equal(cidr('2001:db8::/032').prefix, 32);
  });

  it('refuses a block whose address is invalid, zoned, or missing', () => {
    for (const s of ['', 'x/8', '1.2.3/24', '256.0.0.0/8', 'fe80::%eth0/64', '10.0.0.0.0/8']) {
      assert.equal(parseCidr(s), null, JSON.stringify(s));
    }
  });
});

describe('cidr: cidrContains', () => {
  it('byte-aligned IPv4 blocks, and the edges of the block', () => {
    assert.equal(contains('10.0.0.0/8', '10.0.0.0'), true);
    assert.equal(contains('10.0.0.0/8', '10.255.255.255'), true);
    assert.equal(contains('10.0.0.0/8', '11.0.0.0'), false);
    assert.equal(contains('10.0.0.0/8', '9.255.255.255'), false);
    assert.equal(contains('192.0.2.7', '192.0.2.7'), true);
    assert.equal(contains('192.0.2.7', '192.0.2.6'), false);
  });

  it('non-byte-aligned prefixes compare only the prefix bits', () => {
    // 10.240.0.0/12: 10.240.0.0 - 10.255.255.255
    assert.equal(contains('10.240.0.0/12', '10.240.0.0'), true);
    assert.equal(contains('10.240.0.0/12', '10.255.255.255'), true);
    assert.equal(contains('10.240.0.0/12', '10.239.255.255'), false);
    // 192.168.77.192/26: .192 - .255
    assert.equal(contains('192.168.77.192/26', '192.168.77.192'), true);
    assert.equal(contains('192.168.77.192/26', '192.168.77.255'), true);
    assert.equal(contains('192.168.77.192/26', '192.168.77.191'), false);
    // /1 and /31
    assert.equal(contains('128.0.0.0/1', '200.0.0.1'), true);
    assert.equal(contains('128.0.0.0/1', '127.255.255.255'), false);
    assert.equal(contains('10.0.0.2/31', '10.0.0.3'), true);
    assert.equal(contains('10.0.0.2/31', '10.0.0.4'), false);
    // IPv6 fe80::/10: fe80:: - febf:ffff:...
    assert.equal(contains('fe80::/10', 'fe80::1'), true);
    assert.equal(contains('fe80::/10', 'febf:ffff::1'), true);
    assert.equal(contains('fe80::/10', 'fec0::1'), false);
    assert.equal(contains('2001:db8::/33', '2001:db8:7fff::1'), true);
    assert.equal(contains('2001:db8::/33', '2001:db8:8000::1'), false);
  });

  it('a block given with host bits set contains what the cleared block contains', () => {
    assert.equal(contains('10.1.2.3/8', '10.200.0.1'), true);
    assert.equal(contains('10.255.255.255/12', '10.240.0.1'), true);
    assert.equal(contains('10.255.255.255/12', '10.239.0.1'), false);
  });

  it('/0 contains every address of its own family', () => {
    assert.equal(contains('0.0.0.0/0', '255.255.255.255'), true);
    assert.equal(contains('0.0.0.0/0', '0.0.0.0'), true);
    assert.equal(contains('::/0', 'ffff::1'), true);
    assert.equal(contains('::/0', '::'), true);
  });

  it('never matches across families, whatever the bytes, except an IPv4-mapped IPv6 address, which is its IPv4 address', () => {
    assert.equal(contains('0.0.0.0/0', '::'), false);
    assert.equal(contains('::/0', '10.0.0.1'), false);
    assert.equal(contains('::/0', '0.0.0.0'), false);
    // ::ffff:a.b.c.d is where an AF_INET6 socket reaches the IPv4 host a.b.c.d (issue 9: a v4 deny must hold)
    assert.equal(contains('1.2.3.0/24', '::ffff:1.2.3.4'), true);
    assert.equal(contains('1.2.3.0/24', '::ffff:1.2.4.4'), false);
    assert.equal(contains('::ffff:1.2.3.0/120', '::ffff:1.2.3.4'), true);
    assert.equal(contains('::ffff:1.2.3.0/120', '1.2.3.4'), true, 'a mapped block is its IPv4 block');
    assert.equal(contains('1.2.3.0/24', '::1.2.3.4'), false, 'the deprecated IPv4-compatible form is not mapped');
    assert.equal(contains('1.2.3.0/24', '64:ff9b::1.2.3.4'), false, 'NAT64 is another host');
    const mapped = parseCidr('::ffff:10.0.0.0/104');
    assert.deepEqual(mapped && { family: mapped.family, prefix: mapped.prefix, addr: [...mapped.addr] }, { family: 4, prefix: 8, addr: [10, 0, 0, 0] });
  });

  it('/128 and /32 are exact', () => {
    assert.equal(contains('2001:db8::1/128', '2001:db8::1'), true);
    assert.equal(contains('2001:db8::1/128', '2001:db8::2'), false);
    assert.equal(contains('2001:db8::1/128', '2001:db8::1:0'), false);
  });
});
