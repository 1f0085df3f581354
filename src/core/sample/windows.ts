/** Overlapping line windows over one file: the unit a code search returns. */

export interface LineWindow {
  /** 1-based, inclusive. */
  startLine: number;
  /** 1-based, inclusive. */
  endLine: number;
  text: string;
}

/**
 * Windows of `size` lines starting every `size - overlap` lines; the last one ends at the last line
 * and is never wholly inside the one before it. A trailing newline does not make an extra line.
 */
export function cutWindows(text: string, size: number, overlap: number): LineWindow[] {
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const windows: LineWindow[] = [];
  const step = size - overlap;
  for (let start = 0; start < lines.length; start += step) {
    const end = Math.min(start + size, lines.length);
    windows.push({ startLine: start + 1, endLine: end, text: lines.slice(start, end).join('\n') });
    if (end === lines.length) break;
  }
  return windows;
}
