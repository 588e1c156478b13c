// The stable JSON shape of a named secret, shared by the CLI and the admin API (docs/cli.md).
import { formatMode } from '../../core/file-mode.js';
import type { SecretRecord } from '../../store/secrets.js';

/** The stable JSON shape of `secret ls --format json` and `secret inspect` (docs/cli.md). */
export function secretJson(r: SecretRecord): Record<string, unknown> {
  return {
    ID: r.id,
    Name: r.name,
    Backend: r.ref !== null ? 'reference' : 'local',
    Reference: r.ref,
    Labels: r.labels,
    Mode: r.mode == null ? null : formatMode(r.mode),
    UID: r.uid,
    GID: r.gid,
    CreatedAt: r.createdAt,
    UpdatedAt: r.updatedAt,
  };
}
