// Path globs for rules: `*` matches within one path segment, `**` across
// segments, `?` one character (not "/"). Compiled once, at rule load.

export interface Glob {
  source: string;
  /** the literal part before the first wildcard: an index key */
  literalPrefix: string;
  test(s: string): boolean;
}

export function globError(pattern: string): string | null {
  if (pattern === '') return 'empty glob';
  if (/\*{3,}/.test(pattern)) return `"${pattern}": more than two * in a row`;
  return null;
}

export function compileGlob(pattern: string): Glob {
  // "/**/name" (a file of that name anywhere): a suffix test, no regular expression
  const anywhere = /^\/\*\*\/([^*?/]+)$/.exec(pattern);
  if (anywhere) {
    const name = anywhere[1];
    const tail = `/${name}`;
    return { source: pattern, literalPrefix: '/', test: (s) => s.endsWith(tail) };
  }
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        // "**/" also matches no directory at all
        if (pattern[i + 2] === '/') {
          re += '(?:.*/)?';
          i += 2;
        } else {
          re += '.*';
          i += 1;
        }
      } else {
        re += '[^/]*';
      }
    } else if (c === '?') {
      re += '[^/]';
    } else {
      re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  const rx = new RegExp(re + '$');
  const star = pattern.search(/[*?]/);
  return { source: pattern, literalPrefix: star < 0 ? pattern : pattern.slice(0, star), test: (s) => rx.test(s) };
}
