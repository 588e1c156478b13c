// A small in-test Resolver: fixed bytes per target, a version token per target, call counters.
// It stands in for the broker so delivery can be tested without providers.
import { resolveEach } from '../../src/core/all-or-nothing.js';
import { KeywayError } from '../../src/core/errors.js';
import { SecretValue } from '../../src/core/secret-value.js';
import type { Resolved, ResolveContext, ResolveManyOptions, Resolver } from '../../src/broker/types.js';

export class FixedResolver implements Resolver {
  readonly values = new Map<string, { bytes: Buffer; version: string; mode?: number; uid?: number; gid?: number }>();
  resolveCalls = 0;
  versionCalls = 0;
  failWith: KeywayError | undefined;

  set(target: string, bytes: string | Buffer, version: string, extra: { mode?: number; uid?: number; gid?: number } = {}): void {
    this.values.set(target, { bytes: Buffer.from(bytes), version, ...extra });
  }

  #get(target: string, ctx: ResolveContext) {
    if (ctx.signal.aborted) throw new KeywayError('cancelled', 'cancelled');
    if (this.failWith) throw this.failWith;
    const v = this.values.get(target);
    if (!v) throw new KeywayError('not_found', `secret ${target} not found`);
    return v;
  }

  async resolve(target: string, ctx: ResolveContext): Promise<Resolved> {
    this.resolveCalls++;
    await Promise.resolve();
    const v = this.#get(target, ctx);
    return {
      value: SecretValue.copyOf(v.bytes),
      source: target.startsWith('ref+') ? target.split('?')[0]!.split('#')[0]! : `secret:${target}`,
      provider: 'fixed',
      version: v.version,
      ...(target.startsWith('ref+') ? {} : { name: target }),
      ...(v.mode !== undefined ? { mode: v.mode } : {}),
      ...(v.uid !== undefined ? { uid: v.uid } : {}),
      ...(v.gid !== undefined ? { gid: v.gid } : {}),
    };
  }

  resolveMany(targets: readonly string[], ctx: ResolveContext, opts?: ResolveManyOptions): Promise<Resolved[]> {
    return resolveEach(targets, (t, signal) => this.resolve(t, { ...ctx, signal }), ctx.signal, opts);
  }

  async version(target: string, ctx: ResolveContext): Promise<string> {
    this.versionCalls++;
    await Promise.resolve();
    return this.#get(target, ctx).version;
  }
}
