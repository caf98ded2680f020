// Positions in a source file, carried as offsets and turned into
// `file:line:col` plus the source line with a ^ under the fault only when
// an error is reported.

export interface SourceFile {
  /** the path as the user gave it */
  name: string;
  text: string;
}

export interface LineCol {
  line: number; // 1-based
  col: number; // 1-based
}

export function lineCol(text: string, offset: number): LineCol {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(Math.max(offset, 0), text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, col: end - lineStart + 1 };
}

/** "file:line:col: message\n<source line>\n    ^" */
export function formatAt(file: SourceFile, offset: number, message: string): string {
  const { line, col } = lineCol(file.text, offset);
  const lines = file.text.split('\n');
  const src = (lines[line - 1] ?? '').replace(/\t/g, ' ');
  return `${file.name}:${line}:${col}: ${message}\n${src}\n${' '.repeat(col - 1)}^`;
}
