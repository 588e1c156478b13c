// The Podman design doc's stateless provider protocol: `{"SecretName","ProviderOpts"}` and a newline
// on stdin, the raw secret on stdout until EOF, exit status 0 for success. Always one process per
// lookup.
import { KeywayError } from '../../core/errors.js';
import type { PluginEntry } from '../entry.js';
import { launch, type HostDeps } from './launcher.js';
import { describeExit } from './process.js';
import { abortError } from './signals.js';

export async function podmanLookup(entry: PluginEntry, deps: HostDeps, name: string, options: Readonly<Record<string, string>>, signal: AbortSignal): Promise<Buffer> {
  if (signal.aborted) throw abortError(entry.name, signal);
  const p = launch(entry, deps, { lifecycle: 'oneshot', stdoutMode: 'raw', signal });
  p.stderr.begin();
  p.writeRaw(Buffer.from(JSON.stringify({ SecretName: name, ProviderOpts: options }) + '\n'));
  p.endInput();
  const info = await p.exited;
  const out = p.takeRaw();
  p.stderr.end();
  if (info.aborted) {
    out.fill(0);
    throw abortError(entry.name, signal);
  }
  if (info.protocolError || info.spawnError || info.code !== 0) {
    const tail = p.stderr.tail();
    out.fill(0);
    const err = describeExit(entry.name, { ...info, midFrame: false }, tail);
    // Podman reports any failed lookup as "no such secret"; a plain non-zero exit means the same
    // here (and is not retried). Signals and protocol errors keep their codes.
    if (!info.protocolError && !info.spawnError && info.signal === null) throw new KeywayError('not_found', err.message);
    throw err;
  }
  return out;
}
