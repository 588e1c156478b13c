import type { Command } from 'commander';
import { VERSION } from '../../version.js';

export function registerVersion(program: Command): void {
  program
    .command('version')
    .description('print the keyway version')
    .action(printVersion);
}

export function printVersion(): void {
  process.stdout.write(`keyway ${VERSION} (node ${process.version})\n`);
}
