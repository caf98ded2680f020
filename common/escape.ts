// Strings that came from a workload, a node or a file, made safe to show a
// person: control characters (C0, DEL, C1: terminal escape sequences,
// carriage returns, newlines that forge extra lines) and the Unicode
// direction overrides that reorder what a terminal shows ("Trojan Source")
// become visible escapes. The text keeps its meaning; only the display is safe.

const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function printable(s: string): string {
  return s.replace(UNSAFE, (c) => {
    const n = c.charCodeAt(0);
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
  });
}
