// Printed fix commands are pasted into a shell: every value in them is quoted for POSIX sh.
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A command line from words, each quoted as needed. */
export function shellCommand(words: string[]): string {
  return words.map(shellQuote).join(' ');
}
