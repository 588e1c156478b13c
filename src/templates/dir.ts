// The templates dir: where Docker/Podman volumes (`-o template=FILE`) and CSI objects
// (`template: FILE`) find their templates. Config `templates.dir`; by default /etc/keyway/templates
// for root and $XDG_CONFIG_HOME/keyway/templates otherwise.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readTemplateIn } from './files.js';
import type { TemplateSource } from './resolver.js';
import { parseTemplate } from './syntax.js';

export function defaultTemplatesDir(isRoot: boolean, env: Readonly<Record<string, string | undefined>>): string {
  if (isRoot) return '/etc/keyway/templates';
  const configHome = env.XDG_CONFIG_HOME || join(env.HOME ?? homedir(), '.config');
  return join(configHome, 'keyway', 'templates');
}

/** Reads and parses a template from `dir` on every call, so an edited template takes effect. */
export function dirSource(dir: string, maxBytes: number): TemplateSource {
  return (name) => parseTemplate(readTemplateIn(dir, name, maxBytes), name);
}
