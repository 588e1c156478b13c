// The INI dialect of ~/.aws/credentials and ~/.aws/config: `[section]`, `key = value`, `#`/`;`
// comments. Nested (indented) sub-sections such as `s3 =` blocks are skipped.
export type IniFile = Map<string, Map<string, string>>;

export function parseIni(text: string): IniFile {
  const out: IniFile = new Map();
  let current: Map<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    if (/^\s/.test(raw) && raw.trim().length > 0) continue; // continuation / nested block
    const line = raw.trim();
    if (line.length === 0 || line.startsWith('#') || line.startsWith(';')) continue;
    const sec = /^\[\s*([^\]]+?)\s*\]$/.exec(line);
    if (sec) {
      const name = sec[1] ?? '';
      current = out.get(name) ?? new Map<string, string>();
      out.set(name, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0 || !current) continue;
    current.set(line.slice(0, eq).trim().toLowerCase(), line.slice(eq + 1).trim());
  }
  return out;
}

/** The section of a profile: `[NAME]` in the credentials file, `[profile NAME]` (or `[default]`) in config. */
export function profileSection(file: IniFile, profile: string, kind: 'credentials' | 'config'): Map<string, string> | undefined {
  if (kind === 'credentials') return file.get(profile);
  return profile === 'default' ? (file.get('default') ?? file.get('profile default')) : file.get(`profile ${profile}`);
}
