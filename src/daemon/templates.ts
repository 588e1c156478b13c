// Templates for the daemon's frontends: the broker, plus `template=FILE` targets read from the
// templates dir (config templates.dir).
import { defaultTemplatesDir, dirSource } from '../templates/dir.js';
import { TemplatingResolver } from '../templates/resolver.js';
import type { Context } from './context.js';

export function templatesDir(ctx: Pick<Context, 'config' | 'isRoot' | 'env'>): string {
  return ctx.config.templates.dir ?? defaultTemplatesDir(ctx.isRoot, ctx.env);
}

export function templatingBroker(ctx: Context): TemplatingResolver {
  const max = ctx.config.limits.max_secret_bytes;
  return new TemplatingResolver({ inner: ctx.broker, source: dirSource(templatesDir(ctx), max), maxBytes: max });
}
