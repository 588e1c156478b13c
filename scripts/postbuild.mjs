// Make the built entry point executable so `bin: keyway` works straight from dist/.
import { chmodSync } from 'node:fs';
chmodSync(new URL('../dist/cli.js', import.meta.url), 0o755);
