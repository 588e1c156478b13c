// `keyway doctor`: one line per host check and a delivery verdict secure|weak|insecure; exits 1
// when insecure. It sets up the mount root as `run`/`serve` would (that is the thing it checks)
// but creates no state dir or database.
import type { Command } from 'commander';
import { join } from 'node:path';
import { EXIT_FAILED } from '../exit.js';
import { globalsOf } from '../context.js';
import { interruptSignal } from '../interrupt.js';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check the host: noswap tmpfs, mount root, SELinux, file and socket permissions, tools')
    .option('--format <format>', 'text or json', 'text')
    .action(async (opts: { format: string }, cmd: Command) => {
      const { KeywayError } = await import('../../core/errors.js');
      if (opts.format !== 'text' && opts.format !== 'json') throw new KeywayError('invalid_argument', '--format: expected text or json');
      const { loadSettings } = await import('../../daemon/context.js');
      const { defaultKeyPath } = await import('../../providers/local/index.js');
      const { DB_FILE } = await import('../../store/db.js');
      const { runDoctor, formatReport } = await import('../../delivery/doctor.js');
      const s = loadSettings(globalsOf(cmd));
      const report = await runDoctor({
        runtimeDir: s.runtimeDir,
        stateDir: s.stateDir,
        keyFile: s.config.local.key_file ?? defaultKeyPath(s.stateDir),
        databaseFile: join(s.stateDir, DB_FILE),
        sockets: [
          { name: 'admin API', path: s.config.api.socket ?? join(s.runtimeDir, 'keyway.sock') },
          { name: 'docker plugin', path: s.config.docker.socket },
          { name: 'CSI provider', path: s.config.csi.socket },
        ],
        signal: interruptSignal(),
      });
      process.stdout.write(opts.format === 'json' ? JSON.stringify(report, null, 2) + '\n' : formatReport(report));
      if (report.verdict === 'insecure') process.exitCode = EXIT_FAILED;
    });
}
