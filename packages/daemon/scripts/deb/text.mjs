// Plain-text helpers for the Debian control files.

/**
 * `text` as lines of at most `width` characters (a longer word gets a line of its own), `first` before the
 * first line and `rest` before the others.
 */
export function wrap(text, width, first = '', rest = first) {
  const lines = [];
  let line = first;
  let empty = true;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (!empty && line.length + 1 + word.length > width) {
      lines.push(line);
      line = rest;
      empty = true;
    }
    line += empty ? word : ` ${word}`;
    empty = false;
  }
  lines.push(line);
  return lines;
}
