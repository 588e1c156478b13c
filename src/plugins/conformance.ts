// The conformance suite behind `keyway plugin test PATH`: runs a plugin through the host exactly as
// keyway would (hash pinned, sandboxed) and checks each protocol rule as one case.
import { randomBytes } from 'node:crypto';
import { KeywayError } from '../core/errors.js';
import { exitPhrase } from '../core/process/supervise.js';
import { SecretValue } from '../core/secret-value.js';
import type { PluginEntry } from './entry.js';
import { PluginHost } from './host/host.js';
import type { HostDeps } from './host/launcher.js';
import type { Describe } from './protocol.js';

export type CaseStatus = 'ok' | 'fail' | 'skip';

export interface CaseResult {
  readonly name: string;
  readonly status: CaseStatus;
  readonly detail?: string;
}

export interface ConformanceOptions {
  /** A path the plugin is known to serve: checks a successful lookup. */
  readonly knownPath?: string;
  readonly signal: AbortSignal;
  /** Called as each case finishes (the CLI prints one line per case). */
  readonly onCase?: (r: CaseResult) => void;
}

function why(e: unknown): string {
  return e instanceof KeywayError ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
}

function expectCode(e: unknown, codes: readonly string[]): string | undefined {
  if (!(e instanceof KeywayError)) return `expected error ${codes.join(' or ')}, got ${why(e)}`;
  return codes.includes(e.code) ? undefined : `expected ${codes.join(' or ')}, got ${e.code}: ${e.message}`;
}

export async function runConformance(entry: PluginEntry, deps: HostDeps, opts: ConformanceOptions): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  const host = new PluginHost(entry, deps);
  const record = (r: CaseResult): void => {
    results.push(r);
    opts.onCase?.(r);
  };
  const run = async (name: string, fn: () => Promise<string | undefined | void>, skip?: string): Promise<void> => {
    if (skip !== undefined) return record({ name, status: 'skip', detail: skip });
    try {
      const detail = await fn();
      record(typeof detail === 'string' ? { name, status: 'fail', detail } : { name, status: 'ok' });
    } catch (e) {
      record({ name, status: 'fail', detail: why(e) });
    }
  };
  const s = opts.signal;
  const base = `keyway-conformance/${randomBytes(6).toString('hex')}`;
  try {
    if (entry.dialect === 'podman') {
      await run('podman dialect: lookup of a known name exits 0 with the bytes on stdout', async () => {
        const r = await host.lookup(opts.knownPath ?? '', {}, s);
        r.value.zero();
      }, opts.knownPath === undefined ? 'no --lookup PATH given' : undefined);
      await run('podman dialect: lookup of an unknown name fails (non-zero exit)', async () => {
        try {
          const r = await host.lookup(`${base}-missing`, {}, s);
          r.value.zero();
          return 'lookup of an unknown name succeeded';
        } catch (e) {
          return expectCode(e, ['not_found']);
        }
      });
      return results;
    }

    let d: Describe | undefined;
    await run('describe answers protocol 1 and lists lookup', async () => {
      try {
        d = await host.describe(s);
      } catch (e) {
        return `${why(e)} (if it speaks the Podman design doc's protocol, run with --dialect podman)`;
      }
      return undefined;
    });
    const noDescribe = d === undefined ? 'describe failed' : undefined;
    const has = (op: string): boolean => (d?.ops as readonly string[] | undefined)?.includes(op) ?? false;

    await run('lookup of a missing path answers not_found', async () => {
      try {
        (await host.lookup(`${base}/missing`, {}, s)).value.zero();
        return 'lookup of a missing path succeeded';
      } catch (e) {
        return expectCode(e, ['not_found']);
      }
    }, noDescribe);

    await run('an unknown op answers unsupported with the request id', async () => {
      const f = await host.callRaw({ op: 'keyway-conformance-no-such-op' }, undefined, s);
      f.payload.fill(0);
      if (f.header.ok !== false) return 'unknown op was answered ok';
      const code = (f.header.error as Record<string, unknown> | undefined)?.code;
      return code === 'unsupported' ? undefined : `expected error code unsupported, got ${JSON.stringify(code)}`;
    }, noDescribe);

    await run('a known path can be looked up', async () => {
      (await host.lookup(opts.knownPath ?? '', {}, s)).value.zero();
    }, noDescribe ?? (opts.knownPath === undefined ? 'no --lookup PATH given' : undefined));

    const canStore = has('store') && has('delete');
    const value = SecretValue.adopt(randomBytes(48));
    await run('store then lookup returns the exact bytes (binary, no base64)', async () => {
      const copy = value.clone();
      try {
        await host.store(`${base}/value`, copy, {}, s);
      } finally {
        copy.zero();
      }
      const r = await host.lookup(`${base}/value`, {}, s);
      const same = r.value.equals(value);
      r.value.zero();
      return same ? undefined : 'lookup returned different bytes than were stored';
    }, noDescribe ?? (canStore ? undefined : 'plugin does not implement store and delete'));

    await run('list answers an array of names', async () => {
      const names = await host.list(undefined, s);
      if (canStore && !names.includes(`${base}/value`)) return `list does not include the stored ${base}/value`;
      return undefined;
    }, noDescribe ?? (has('list') ? undefined : 'plugin does not implement list'));

    await run('version is stable and changes with the value', async () => {
      const v1 = await host.version(`${base}/value`, {}, s);
      const v2 = await host.version(`${base}/value`, {}, s);
      if (v1 !== v2) return 'version changed without a write';
      const next = SecretValue.adopt(randomBytes(48));
      try {
        await host.store(`${base}/value`, next, {}, s);
      } finally {
        next.zero();
      }
      const v3 = await host.version(`${base}/value`, {}, s);
      return v3 === v1 ? 'version did not change after a new value was stored' : undefined;
    }, noDescribe ?? (has('version') && canStore ? undefined : 'plugin does not implement version with store'));

    await run('delete removes the value (then lookup answers not_found)', async () => {
      await host.delete(`${base}/value`, {}, s);
      try {
        (await host.lookup(`${base}/value`, {}, s)).value.zero();
        return 'lookup after delete succeeded';
      } catch (e) {
        return expectCode(e, ['not_found']);
      }
    }, noDescribe ?? (canStore ? undefined : 'plugin does not implement store and delete'));
    value.zero();

    await run('serve: 100 concurrent requests are all answered by one process', async () => {
      const all = await Promise.all(Array.from({ length: 100 }, () => host.describe(s)));
      if (all.length !== 100) return 'not all answered';
      const launches = host.serveClient?.launches ?? 0;
      return launches === 1 ? undefined : `the plugin was started ${launches} times`;
    }, noDescribe ?? (entry.lifecycle === 'serve' ? undefined : 'oneshot plugin'));
    if (entry.lifecycle === 'serve' && noDescribe === undefined) {
      await run('serve: exits on its own when stdin closes', async () => {
        const info = await host.serveClient?.close();
        if (!info) return 'no process was running';
        if (info.signal !== null) return `the plugin had to be killed (${info.signal}) after stdin closed`;
        return info.code === 0 ? undefined : exitPhrase(info);
      });
    }
  } finally {
    await host.close();
  }
  return results;
}

export function formatCase(r: CaseResult): string {
  const tag = r.status === 'ok' ? 'ok  ' : r.status === 'fail' ? 'FAIL' : 'skip';
  return `${tag} ${r.name}${r.detail ? ` — ${r.detail.replace(/\s+/g, ' ')}` : ''}`;
}
