// Strings that came from a workload, a node or a file, made safe to show a
// person: control characters (C0, DEL, C1: terminal escape sequences,
// carriage returns, newlines that forge extra lines), the Unicode direction
// overrides that reorder what a terminal shows ("Trojan Source") and the
// Unicode line and paragraph separators become visible escapes. The text
// keeps its meaning; only the display is safe.

const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

export function printable(s: string): string {
  return s.replace(UNSAFE, (c) => {
    const n = c.charCodeAt(0);
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
  });
}

/** What jsonLine rewrites: any whitespace or control character, the direction overrides, the line and paragraph separators. */
const JSON_UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * Valid JSON text as one line that is safe on a terminal and in a JSON-lines
 * stream, with the same value: raw tabs and line breaks (which valid JSON has
 * only between tokens) become spaces; every other control character, the
 * direction overrides and U+2028/U+2029 (which valid JSON has only inside
 * strings) become \uXXXX escapes. Only for text that JSON.parse accepts.
 */
export function jsonLine(json: string): string {
  return json.replace(JSON_UNSAFE, (c) => (c === '\n' || c === '\r' || c === '\t' ? ' ' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

/** Whether jsonLine would change `json`. */
export function needsJsonLine(json: string): boolean {
  JSON_UNSAFE.lastIndex = 0;
  const r = JSON_UNSAFE.test(json);
  JSON_UNSAFE.lastIndex = 0;
  return r;
}
