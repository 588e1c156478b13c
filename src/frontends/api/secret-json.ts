// The stable JSON shape of a named secret, shared by the CLI and the admin API (docs/cli.md).
import type { SecretRecord } from '../../store/secrets.js';

/** The stable JSON shape of `secret ls --format json` and `secret inspect` (docs/cli.md). */
export function secretJson(r: SecretRecord): Record<string, unknown> {
  return {
    ID: r.id,
    Name: r.name,
    Backend: r.ref !== null ? 'reference' : 'local',
    Reference: r.ref,
    Labels: r.labels,
    Mode: formatMode(r.mode),
    UID: r.uid,
    GID: r.gid,
    CreatedAt: r.createdAt,
    UpdatedAt: r.updatedAt,
  };
}

/** Octal text of a file mode (`0400`), or null. */
function formatMode(mode: number | null | undefined): string | null {
  return mode == null ? null : '0' + mode.toString(8).padStart(3, '0');
}
