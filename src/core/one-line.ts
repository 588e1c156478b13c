// Text keyway did not write (a backend's or plugin's error, a tool's stderr) folded onto one line
// before it reaches an error message or a terminal: runs of white space become one space and other
// control characters are dropped, so a hostile source can neither start a new log line nor send
// escape sequences to the terminal that shows it.

export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f]/g, '');
}
