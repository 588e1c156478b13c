// Templates as resolver targets. `template=FILE` (a form no secret name or reference can take:
// names forbid "=") resolves to the rendered template, and its version combines the template's
// digest with the version of every value it references. Wrapping the broker this way lets every
// consumer of a Resolver (the rotation refresher, Docker volumes, CSI) deliver and rotate templates
// without knowing about them.
import { createHash } from 'node:crypto';
import { resolveEach } from '../core/all-or-nothing.js';
import { KeywayError } from '../core/errors.js';
import type { SecretValue } from '../core/secret-value.js';
import type { ResolveContext, ResolveManyOptions, Resolved, Resolver } from '../broker/types.js';
import { renderTemplate } from './render.js';
import type { Template } from './syntax.js';

export const TEMPLATE_TARGET_PREFIX = 'template=';

export function isTemplateTarget(target: string): boolean {
  return target.startsWith(TEMPLATE_TARGET_PREFIX);
}

export function templateTarget(name: string): string {
  return `${TEMPLATE_TARGET_PREFIX}${name}`;
}

/** Where templates come from: parsed afresh on each call, or fixed at start-up (`keyway run`). */
export type TemplateSource = (name: string) => Template;

export interface TemplatingResolverOptions {
  readonly inner: Resolver & { contentVersion?(value: SecretValue): string };
  readonly source: TemplateSource;
  /** limits.max_secret_bytes: the rendered output is a secret like any other. */
  readonly maxBytes: number;
}

export class TemplatingResolver implements Resolver {
  readonly #o: TemplatingResolverOptions;

  constructor(opts: TemplatingResolverOptions) {
    this.#o = opts;
  }

  #template(target: string): Template {
    return this.#o.source(target.slice(TEMPLATE_TARGET_PREFIX.length));
  }

  async resolve(target: string, ctx: ResolveContext): Promise<Resolved> {
    if (!isTemplateTarget(target)) return this.#o.inner.resolve(target, ctx);
    const tpl = this.#template(target);
    const value = await renderTemplate(tpl, (t) => this.#o.inner.resolve(t, ctx), this.#o.maxBytes);
    return { value, source: `template:${tpl.file}`, provider: 'template' };
  }

  /** Without templates among them, the wrapped resolver's (batched) resolveMany; else one by one. */
  resolveMany(targets: readonly string[], ctx: ResolveContext, opts?: ResolveManyOptions): Promise<Resolved[]> {
    if (!targets.some(isTemplateTarget)) return this.#o.inner.resolveMany(targets, ctx, opts);
    return resolveEach(targets, (t, signal) => this.resolve(t, { ...ctx, signal }), ctx.signal, opts);
  }

  async version(target: string, ctx: ResolveContext): Promise<string> {
    if (!isTemplateTarget(target)) return this.#o.inner.version(target, ctx);
    const tpl = this.#template(target);
    const versions = await Promise.all(tpl.targets.map((t) => this.#o.inner.version(t, ctx)));
    const h = createHash('sha256').update(tpl.digest);
    for (const v of versions) h.update('\0').update(v);
    return `t:${h.digest('hex').slice(0, 32)}`;
  }

  contentVersion(value: SecretValue): string {
    if (!this.#o.inner.contentVersion) throw new KeywayError('internal', 'the wrapped resolver has no content versions');
    return this.#o.inner.contentVersion(value);
  }
}
