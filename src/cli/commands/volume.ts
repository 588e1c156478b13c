// `keyway volume ls|inspect`: the explicit Docker/Podman volumes (`docker volume create -d keyway
// -o ...`) and their live mounts, read from keyway's store. Named secrets are volumes too but are
// listed by `keyway secret ls`; Podman shell-driver secrets by `podman secret ls` (three lists).
import type { Command } from 'commander';
import { KeywayError, toKeywayError } from '../../core/errors.js';
import { formatMode } from '../../core/file-mode.js';
import { describeSource, implicitSpec, parseVolumeOptions, type VolumeSpec } from '../../frontends/docker-volume/volume-options.js';
import { VolumesRepo, type VolumeRecord } from '../../store/volumes.js';
import { withContext } from '../context.js';
import { parseFormat, renderTable, renderTemplate } from '../format.js';

/** The JSON shape of `volume ls --format json` and `volume inspect` (docs/cli.md); no reference query. */
function volumeJson(v: VolumeRecord, mounts: number): Record<string, unknown> {
  let spec: VolumeSpec;
  try {
    spec = parseVolumeOptions(v.name, v.opts) ?? implicitSpec(v.name);
  } catch (e) {
    // Stored options a newer rule refuses: show the volume and why it cannot be mounted.
    return { Name: v.name, Driver: 'keyway', Kind: 'invalid', Source: toKeywayError(e).message, Mode: null, UID: null, GID: null, Mounts: mounts, CreatedAt: v.createdAt };
  }
  const { Kind, Source } = describeSource(spec.source);
  return {
    Name: v.name,
    Driver: 'keyway',
    Kind,
    Source,
    Mode: spec.mode === undefined ? null : formatMode(spec.mode),
    UID: spec.uid ?? null,
    GID: spec.gid ?? null,
    Mounts: mounts,
    CreatedAt: v.createdAt,
  };
}

export function registerVolume(program: Command): void {
  const volume = program.command('volume').description('list and inspect explicit Docker/Podman volumes (docker volume create -d keyway)');

  volume
    .command('ls')
    .alias('list')
    .description('list explicit volumes with their source and live mount count (never values)')
    .option('--format <fmt>', "table, json, or a template such as '{{.Name}}'", 'table')
    .option('-q, --quiet', 'print names only')
    .option('--noheading', 'omit the table header')
    .action(async (opts: { format: string; quiet?: boolean; noheading?: boolean }, cmd: Command) => {
      const format = parseFormat(opts.format);
      await withContext(cmd, async (ctx) => {
        const repo = new VolumesRepo(ctx.db);
        const rows = repo.list().map((v) => volumeJson(v, repo.listMounts(v.name).length));
        if (opts.quiet) process.stdout.write(rows.map((r) => `${String(r.Name)}\n`).join(''));
        else if (format.kind === 'json') process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
        else if (format.kind === 'template') process.stdout.write(renderTemplate({ ...format, header: format.header === true && opts.noheading !== true }, rows));
        else {
          const data = [['NAME', 'KIND', 'SOURCE', 'MOUNTS', 'CREATED'], ...rows.map((r) => [String(r.Name), String(r.Kind), String(r.Source), String(r.Mounts), String(r.CreatedAt)])];
          process.stdout.write(renderTable(data, opts.noheading === true));
        }
      });
    });

  volume
    .command('inspect')
    .description('show explicit volumes as a JSON array; prints those found and fails naming the rest')
    .argument('<names...>', 'volume names')
    .option('--format <fmt>', "json (default), or a template such as '{{.Source}}'", 'json')
    .action(async (names: string[], opts: { format: string }, cmd: Command) => {
      const format = parseFormat(opts.format);
      if (format.kind === 'table') throw new KeywayError('invalid_argument', "--format: inspect prints json or a template such as '{{.Name}}', not a table");
      await withContext(cmd, async (ctx) => {
        const repo = new VolumesRepo(ctx.db);
        const found: Record<string, unknown>[] = [];
        const absent: string[] = [];
        for (const n of names) {
          const v = repo.get(n);
          if (v) found.push(volumeJson(v, repo.listMounts(n).length));
          else absent.push(n);
        }
        process.stdout.write(format.kind === 'template' ? renderTemplate(format, found) : JSON.stringify(found, null, 2) + '\n');
        if (absent.length > 0) {
          throw new KeywayError('not_found', `no explicit volume named ${absent.map((m) => JSON.stringify(m)).join(', ')} (a named secret is a volume too; keyway secret inspect shows it)`);
        }
      });
    });
}
