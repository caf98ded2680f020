// SPIFFE ID conformance (the SPIFFE-ID standard, go-spiffe's spiffeid as the
// model) and the segment globs that rules use.
import * as assert from 'node:assert/strict';
import { VigilError } from '../../../common/errors';
import {
  MAX_SPIFFE_ID_BYTES,
  MAX_TRUST_DOMAIN_BYTES,
  checkSpiffeId,
  checkTrustDomain,
  compileSpiffePattern,
  isValidTrustDomain,
  parseSpiffeId,
} from '../../../common/spiffe/spiffe-id';

const td255 = 'a'.repeat(MAX_TRUST_DOMAIN_BYTES);
const longest = 'spiffe://td/' + 'a'.repeat(MAX_SPIFFE_ID_BYTES - 'spiffe://td/'.length);
const charsOnly = (where: string) => (where === 'trust domain' ? 'only a-z, 0-9, ".", "-" and "_" are allowed' : 'only a-z, A-Z, 0-9, ".", "-" and "_" are allowed');
const badChar = (where: 'trust domain' | 'path', c: string, at: number) => `${where} contains an invalid character ${c} at offset ${at}: ${charsOnly(where)}`;
const percent = (where: 'trust domain' | 'path', seq: string, at: number) =>
  `${where} contains a percent-encoded character "${seq}" at offset ${at}: percent-encoding is not allowed`;

interface Valid {
  id: string;
  trustDomain: string;
  segments: string[];
}

const VALID: Valid[] = [
  { id: 'spiffe://td', trustDomain: 'td', segments: [] },
  { id: 'spiffe://example.org', trustDomain: 'example.org', segments: [] },
  { id: 'spiffe://example.org/ns/default/sa/web', trustDomain: 'example.org', segments: ['ns', 'default', 'sa', 'web'] },
  { id: 'spiffe://prod_1.example-corp.org/ns/pay_ments/sa/api-v2.1', trustDomain: 'prod_1.example-corp.org', segments: ['ns', 'pay_ments', 'sa', 'api-v2.1'] },
  { id: 'spiffe://td/Mixed/CASE/Path', trustDomain: 'td', segments: ['Mixed', 'CASE', 'Path'] },
  { id: 'spiffe://td/...', trustDomain: 'td', segments: ['...'] },
  { id: 'spiffe://td/.hidden/a..b/c.', trustDomain: 'td', segments: ['.hidden', 'a..b', 'c.'] },
  { id: 'spiffe://_/-', trustDomain: '_', segments: ['-'] },
  { id: 'spiffe://10.0.0.1/x', trustDomain: '10.0.0.1', segments: ['x'] },
  { id: 'spiffe://xn--bcher-kva.example/0/1/2', trustDomain: 'xn--bcher-kva.example', segments: ['0', '1', '2'] },
  { id: 'spiffe://-.-/_._', trustDomain: '-.-', segments: ['_._'] },
  { id: `spiffe://${td255}/x`, trustDomain: td255, segments: ['x'] },
  { id: longest, trustDomain: 'td', segments: ['a'.repeat(MAX_SPIFFE_ID_BYTES - 12)] },
  {
    id: `spiffe://${td255}/` + 'b'.repeat(MAX_SPIFFE_ID_BYTES - 10 - MAX_TRUST_DOMAIN_BYTES),
    trustDomain: td255,
    segments: ['b'.repeat(MAX_SPIFFE_ID_BYTES - 10 - MAX_TRUST_DOMAIN_BYTES)],
  },
];

const INVALID: Array<{ id: string; reason: string; what: string }> = [
  { what: 'empty', id: '', reason: 'SPIFFE ID is empty' },
  { what: 'uppercase scheme', id: 'SPIFFE://td/x', reason: 'scheme must be "spiffe://"' },
  { what: 'mixed-case scheme', id: 'Spiffe://td/x', reason: 'scheme must be "spiffe://"' },
  { what: 'http scheme', id: 'http://td/x', reason: 'scheme must be "spiffe://"' },
  { what: 'missing scheme', id: 'td/x', reason: 'scheme must be "spiffe://"' },
  { what: 'one slash after the scheme', id: 'spiffe:/td/x', reason: 'scheme must be "spiffe://"' },
  { what: 'leading space', id: ' spiffe://td/x', reason: 'scheme must be "spiffe://"' },
  { what: 'empty trust domain with a path', id: 'spiffe:///path', reason: 'trust domain is empty' },
  { what: 'scheme alone', id: 'spiffe://', reason: 'trust domain is empty' },
  { what: 'uppercase trust domain', id: 'spiffe://Td/x', reason: badChar('trust domain', "'T'", 9) },
  { what: 'one uppercase letter inside the trust domain', id: 'spiffe://exAmple.org', reason: badChar('trust domain', "'A'", 11) },
  { what: 'port', id: 'spiffe://td:8080/x', reason: 'port is not allowed in the trust domain' },
  { what: 'empty port', id: 'spiffe://td:/x', reason: 'port is not allowed in the trust domain' },
  { what: 'userinfo', id: 'spiffe://user@td/x', reason: 'userinfo is not allowed in the trust domain' },
  { what: 'userinfo with a password', id: 'spiffe://user:pw@td/x', reason: 'userinfo is not allowed in the trust domain' },
  { what: 'IPv6 literal', id: 'spiffe://[::1]/x', reason: badChar('trust domain', "'['", 9) },
  { what: 'percent-encoding in the trust domain', id: 'spiffe://%41bc/x', reason: percent('trust domain', '%41', 9) },
  { what: 'percent-encoding in the path', id: 'spiffe://td/%41', reason: percent('path', '%41', 12) },
  { what: 'encoded slash in the path', id: 'spiffe://td/ns/%2F', reason: percent('path', '%2F', 15) },
  { what: 'bare percent sign', id: 'spiffe://td/%zz', reason: badChar('path', "'%'", 12) },
  { what: 'empty segment', id: 'spiffe://td//x', reason: 'path has an empty segment' },
  { what: 'empty segment in the middle', id: 'spiffe://td/x//y', reason: 'path has an empty segment' },
  { what: 'trailing slash', id: 'spiffe://td/x/', reason: 'trailing slash is not allowed' },
  { what: 'slash alone', id: 'spiffe://td/', reason: 'trailing slash is not allowed' },
  { what: '"." segment', id: 'spiffe://td/./x', reason: 'path segment "." is not allowed' },
  { what: '".." segment', id: 'spiffe://td/x/..', reason: 'path segment ".." is not allowed' },
  { what: '".." in the middle', id: 'spiffe://td/a/../b', reason: 'path segment ".." is not allowed' },
  { what: 'query', id: 'spiffe://td/x?y=1', reason: 'query is not allowed' },
  { what: 'query right after the trust domain', id: 'spiffe://td?x', reason: 'query is not allowed' },
  { what: 'fragment', id: 'spiffe://td/x#frag', reason: 'fragment is not allowed' },
  { what: '"?" inside a fragment', id: 'spiffe://td/x#a?b', reason: 'fragment is not allowed' },
  { what: 'space in the path', id: 'spiffe://td/a b', reason: badChar('path', "' '", 13) },
  { what: '"*" in a plain ID', id: 'spiffe://td/a*', reason: badChar('path', "'*'", 13) },
  { what: '"+" in the path', id: 'spiffe://td/a+b', reason: badChar('path', "'+'", 13) },
  { what: 'non-ASCII letter in the path', id: 'spiffe://td/é', reason: badChar('path', 'U+00E9', 12) },
  { what: 'newline in the path', id: 'spiffe://td/a\nb', reason: badChar('path', 'U+000A', 13) },
  { what: 'trust domain of 256 bytes', id: `spiffe://${td255}a/x`, reason: 'trust domain is longer than 255 bytes' },
  { what: 'ID of 2049 bytes', id: longest + 'a', reason: 'SPIFFE ID is longer than 2048 bytes' },
  { what: 'ID of 2050 bytes in 1031 characters', id: 'spiffe://td/' + 'é'.repeat(1019), reason: 'SPIFFE ID is longer than 2048 bytes' },
];

describe('SPIFFE ID', () => {
  it('has a conformance table of at least 12 valid and 18 invalid IDs', () => {
    assert.ok(VALID.length >= 12, `${VALID.length} valid cases`);
    assert.ok(INVALID.length >= 18, `${INVALID.length} invalid cases`);
    assert.equal(Buffer.byteLength(longest), 2048);
    assert.equal(Buffer.byteLength(VALID[VALID.length - 1]!.id), 2048);
  });

  describe('valid', () => {
    for (const v of VALID) {
      it(`accepts ${v.id.length > 60 ? `${v.id.slice(0, 40)}... (${Buffer.byteLength(v.id)} bytes)` : v.id}`, () => {
        const id = parseSpiffeId(v.id);
        assert.equal(id.trustDomain, v.trustDomain);
        assert.deepEqual(id.segments, v.segments);
        assert.equal(id.path, v.segments.map((s) => '/' + s).join(''));
        assert.equal(id.toString(), v.id);
        assert.equal(String(id), v.id);
        const r = checkSpiffeId(v.id);
        assert.equal(r.ok, true);
      });
    }
  });

  describe('invalid', () => {
    for (const c of INVALID) {
      it(`rejects ${c.what}`, () => {
        assert.deepEqual(checkSpiffeId(c.id), { ok: false, reason: c.reason });
        assert.throws(
          () => parseSpiffeId(c.id),
          (err: unknown) => {
            assert.ok(err instanceof VigilError);
            assert.equal(err.code, 'BAD_SPIFFE_ID');
            assert.equal(err.message, `invalid SPIFFE ID ${JSON.stringify(c.id)}: ${c.reason}`);
            return true;
          },
        );
      });
    }
  });

  it('quotes the input in the message exactly as given', () => {
    assert.throws(() => parseSpiffeId('spiffe://td:8080/x'), {
      name: 'VigilError',
      message: 'invalid SPIFFE ID "spiffe://td:8080/x": port is not allowed in the trust domain',
    });
    assert.throws(() => parseSpiffeId('spiffe://Abc/x'), {
      message: `invalid SPIFFE ID "spiffe://Abc/x": trust domain contains an invalid character 'A' at offset 9: only a-z, 0-9, ".", "-" and "_" are allowed`,
    });
  });

  it('rejects a value that is not a string without throwing from check', () => {
    assert.deepEqual(checkSpiffeId(42 as unknown as string), { ok: false, reason: 'expected a string, got number' });
    assert.throws(() => parseSpiffeId(undefined as unknown as string), { code: 'BAD_SPIFFE_ID', message: 'invalid SPIFFE ID undefined: expected a string, got undefined' });
  });

  it('returns frozen IDs', () => {
    const id = parseSpiffeId('spiffe://td/a/b');
    assert.ok(Object.isFrozen(id));
    assert.ok(Object.isFrozen(id.segments));
  });
});

describe('trust domain names', () => {
  const cases: Array<[string, string | null]> = [
    ['example.org', null],
    ['a_b-c.d', null],
    [td255, null],
    ['', 'trust domain is empty'],
    [td255 + 'a', 'trust domain is longer than 255 bytes'],
    ['Example.org', badChar('trust domain', "'E'", 0)],
    ['example.org:443', 'port is not allowed in the trust domain'],
    ['user@example.org', 'userinfo is not allowed in the trust domain'],
    ['ex%41mple.org', percent('trust domain', '%41', 2)],
    ['spiffe://example.org', 'port is not allowed in the trust domain'],
    ['example.org/x', badChar('trust domain', "'/'", 11)],
  ];
  for (const [td, reason] of cases) {
    it(`${reason === null ? 'accepts' : 'rejects'} ${JSON.stringify(td.length > 40 ? `${td.slice(0, 10)}... (${td.length})` : td)}`, () => {
      assert.equal(checkTrustDomain(td), reason);
      assert.equal(isValidTrustDomain(td), reason === null);
    });
  }
});

describe('SPIFFE ID patterns', () => {
  const cases: Array<{ pattern: string; yes: string[]; no: string[] }> = [
    {
      pattern: 'spiffe://prod.example.org/ns/payments/**',
      yes: ['spiffe://prod.example.org/ns/payments', 'spiffe://prod.example.org/ns/payments/sa/api', 'spiffe://prod.example.org/ns/payments/x'],
      no: [
        'spiffe://prod.example.org/ns/paymentsx/sa/api',
        'spiffe://other.org/ns/payments/sa/api',
        'spiffe://prod.example.org/ns',
        'spiffe://prod.example.org/ns/Payments',
        'spiffe://prod.example.org',
      ],
    },
    {
      pattern: 'spiffe://td/ns/*/sa/api',
      yes: ['spiffe://td/ns/x/sa/api', 'spiffe://td/ns/default/sa/api'],
      no: ['spiffe://td/ns/x/y/sa/api', 'spiffe://td/ns/sa/api', 'spiffe://td/ns/x/sa/api/more', 'spiffe://td/ns/x/sa/web'],
    },
    {
      pattern: 'spiffe://td',
      yes: ['spiffe://td'],
      no: ['spiffe://td/x', 'spiffe://tdx', 'spiffe://t'],
    },
    {
      pattern: 'spiffe://td/**',
      yes: ['spiffe://td', 'spiffe://td/x', 'spiffe://td/a/b/c/d/e'],
      no: ['spiffe://other/x', 'spiffe://td.org/x', 'spiffe://t/d'],
    },
    {
      pattern: 'spiffe://td/*',
      yes: ['spiffe://td/x', 'spiffe://td/...'],
      no: ['spiffe://td', 'spiffe://td/x/y'],
    },
    {
      pattern: 'spiffe://td/a/**/z',
      yes: ['spiffe://td/a/z', 'spiffe://td/a/b/z', 'spiffe://td/a/b/c/z', 'spiffe://td/a/z/z'],
      no: ['spiffe://td/a/z/q', 'spiffe://td/a', 'spiffe://td/z', 'spiffe://td/b/a/z'],
    },
    {
      // needs "**" to give back segments it first took
      pattern: 'spiffe://td/**/a/*',
      yes: ['spiffe://td/a/a', 'spiffe://td/a/a/b', 'spiffe://td/x/y/a/b'],
      no: ['spiffe://td/a', 'spiffe://td/a/b/c', 'spiffe://td/b/a'],
    },
    {
      pattern: 'spiffe://td/**/x/**/y',
      yes: ['spiffe://td/x/y', 'spiffe://td/x/x/y/y', 'spiffe://td/q/x/r/s/y'],
      no: ['spiffe://td/y/x', 'spiffe://td/x/y/z', 'spiffe://td/x'],
    },
    {
      pattern: 'spiffe://td/*/**/*',
      yes: ['spiffe://td/a/b', 'spiffe://td/a/b/c/d'],
      no: ['spiffe://td', 'spiffe://td/a'],
    },
  ];
  for (const c of cases) {
    it(`${c.pattern} matches exactly what it should`, () => {
      const p = compileSpiffePattern(c.pattern);
      for (const id of c.yes) {
        assert.equal(p.matches(id), true, `${id} should match`);
        assert.equal(p.matches(parseSpiffeId(id)), true, `${id} (parsed) should match`);
      }
      for (const id of c.no) {
        assert.equal(p.matches(id), false, `${id} should not match`);
        assert.equal(p.matches(parseSpiffeId(id)), false, `${id} (parsed) should not match`);
      }
    });
  }

  it('knows its source, trust domain and whether it is literal', () => {
    const p = compileSpiffePattern('spiffe://prod.example.org/ns/*/sa/api');
    assert.equal(p.source, 'spiffe://prod.example.org/ns/*/sa/api');
    assert.equal(p.trustDomain, 'prod.example.org');
    assert.equal(p.literal, false);
    assert.equal(compileSpiffePattern('spiffe://td/**').literal, false);
    assert.equal(compileSpiffePattern('spiffe://td/ns/x').literal, true);
    assert.equal(compileSpiffePattern('spiffe://td').literal, true);
  });

  it('a literal pattern matches only the same ID', () => {
    const p = compileSpiffePattern('spiffe://td/ns/x');
    assert.equal(p.matches('spiffe://td/ns/x'), true);
    assert.equal(p.matches('spiffe://td/ns/x/y'), false);
    assert.equal(p.matches('spiffe://td/ns'), false);
    assert.equal(p.matches('spiffe://td/ns/X'), false);
  });

  it('never matches a string that is not a valid SPIFFE ID', () => {
    const all = compileSpiffePattern('spiffe://td/**');
    for (const bad of ['spiffe://td/', 'spiffe://td/x/', 'spiffe://td//x', 'SPIFFE://td/x', 'spiffe://td/./x', 'spiffe://td/x?y', 'spiffe://td/*', 'spiffe://td:1/x', '']) {
      assert.equal(all.matches(bad), false, JSON.stringify(bad));
    }
    assert.equal(compileSpiffePattern('spiffe://td/*').matches('spiffe://td/*'), false);
    assert.equal(compileSpiffePattern('spiffe://td/**').matches('spiffe://td/**'), false);
  });

  const BAD_PATTERNS: Array<[string, string]> = [
    ['spiffe://td/a*', 'path segment "a*" at offset 12 mixes "*" with other characters: a wildcard must be a whole segment, "*" or "**"'],
    ['spiffe://td/x/*b', 'path segment "*b" at offset 14 mixes "*" with other characters: a wildcard must be a whole segment, "*" or "**"'],
    ['spiffe://td/***', 'path segment "***" at offset 12 mixes "*" with other characters: a wildcard must be a whole segment, "*" or "**"'],
    ['spiffe://td/**/**', '"**" cannot follow "**" at offset 15: one "**" already matches any number of segments'],
    ['spiffe://td/a/**/**/b', '"**" cannot follow "**" at offset 17: one "**" already matches any number of segments'],
    ['spiffe://TD/**', badChar('trust domain', "'T'", 9)],
    ['spiffe://*.td/x', 'trust domain contains "*" at offset 9: a pattern\'s trust domain is literal or exactly "*", only whole path segments may be "*" or "**"'],
    ['spiffe://td/**/', 'trailing slash is not allowed'],
    ['spiffe://td//**', 'path has an empty segment'],
    ['spiffe://td/./**', 'path segment "." is not allowed'],
    ['spiffe://td/*?x', 'query is not allowed'],
    ['spiffe://td:80/**', 'port is not allowed in the trust domain'],
    ['SPIFFE://td/**', 'scheme must be "spiffe://"'],
    ['spiffe://td/' + '*/'.repeat(1018) + '**', 'SPIFFE ID is longer than 2048 bytes'],
  ];
  for (const [pattern, reason] of BAD_PATTERNS) {
    it(`rejects the pattern ${pattern.length > 60 ? pattern.slice(0, 30) + '...' : pattern}`, () => {
      assert.throws(
        () => compileSpiffePattern(pattern),
        (err: unknown) => {
          assert.ok(err instanceof VigilError);
          assert.equal(err.code, 'BAD_SPIFFE_ID');
          assert.equal(err.message, `invalid SPIFFE ID pattern ${JSON.stringify(pattern)}: ${reason}`);
          return true;
        },
      );
    });
  }

  it('accepts "*" and "**" in turn, and "**" between literals', () => {
    assert.equal(compileSpiffePattern('spiffe://td/**/*/**').matches('spiffe://td/a'), true);
    assert.equal(compileSpiffePattern('spiffe://td/**/*/**').matches('spiffe://td'), false);
    assert.equal(compileSpiffePattern('spiffe://td/*/*').matches('spiffe://td/a/b'), true);
  });

  it('agrees with a RegExp reference on random patterns and IDs', () => {
    // Reference built here only: "*" is one "/seg", "**" any run of "/seg".
    const toRegExp = (segs: string[]) =>
      new RegExp('^' + segs.map((g) => (g === '**' ? '(?:/[^/]+)*' : g === '*' ? '/[^/]+' : '/' + g)).join('') + '$');
    let seed = 0x2545f491;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 16) % n;
    };
    const words = ['a', 'b', 'c'];
    let matched = 0;
    for (let round = 0; round < 3000; round++) {
      const pat: string[] = [];
      const plen = rand(7);
      for (let i = 0; i < plen; i++) {
        const k = rand(5);
        const g = k === 0 ? '*' : k === 1 ? '**' : words[rand(3)]!;
        if (g === '**' && pat[pat.length - 1] === '**') continue;
        pat.push(g);
      }
      const segs: string[] = [];
      const slen = rand(8);
      for (let i = 0; i < slen; i++) segs.push(words[rand(3)]!);
      const p = compileSpiffePattern('spiffe://td' + pat.map((g) => '/' + g).join(''));
      const path = segs.map((s) => '/' + s).join('');
      const want = toRegExp(pat).test(path);
      assert.equal(p.matches('spiffe://td' + path), want, `${p.source} vs spiffe://td${path}`);
      if (want) matched++;
    }
    // both outcomes are exercised
    assert.ok(matched > 300 && matched < 2700, `${matched} of 3000 matched`);
  });

  it('stays fast on a pattern that would make naive backtracking explode', () => {
    const p = compileSpiffePattern('spiffe://td' + '/**/a'.repeat(20) + '/b');
    const id = parseSpiffeId('spiffe://td' + '/a'.repeat(200));
    const t0 = process.hrtime.bigint();
    assert.equal(p.matches(id), false);
    assert.ok(process.hrtime.bigint() - t0 < 1_000_000_000n);
  });
});

describe('SPIFFE ID patterns: every trust domain', () => {
  it('spiffe://*/** matches every workload of every trust domain, and nothing else', () => {
    const p = compileSpiffePattern('spiffe://*/**');
    assert.equal(p.literal, false);
    assert.equal(p.matches('spiffe://a.org/ns/x/sa/y'), true);
    assert.equal(p.matches('spiffe://b.example'), true);
    assert.equal(p.matches('not-an-id'), false);
    const q = compileSpiffePattern('spiffe://*/ns/*/sa/default');
    assert.equal(q.matches('spiffe://c.io/ns/kube-system/sa/default'), true);
    assert.equal(q.matches('spiffe://c.io/ns/kube-system/sa/other'), false);
  });
});
