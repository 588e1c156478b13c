// A provider instance whose implementation module is imported on its first operation (built-in
// types: LazyDefinition in src/providers/factory.ts; registered plugins: src/plugins/provider.ts).
// In core because both of those layers use it. Until then it answers what the broker asks before
// any lookup (type, name, query keys, which optional operations exist) from the type's declaration;
// when the implementation loads, the declaration is checked against it, so the two cannot drift
// apart. A constructor's refusal (a setting it needs is missing) is then the answer of every
// operation, as it would have been of the first.
import { KeywayError } from './errors.js';
import type { Provider } from './provider.js';

/** The operations a provider may lack; their presence is part of its shape. */
export const OPTIONAL_OPS = ['lookupMany', 'version', 'store', 'delete', 'list'] as const;
export type OptionalOp = (typeof OPTIONAL_OPS)[number];

export interface LazyShape {
  readonly type: string;
  readonly name: string;
  readonly optionKeys: readonly string[];
  readonly ops: readonly OptionalOp[];
}

function checkShape(shape: LazyShape, impl: Provider): void {
  const has = OPTIONAL_OPS.filter((op) => typeof impl[op] === 'function');
  const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x) => b.includes(x));
  if (!same(has, shape.ops) || !same(impl.optionKeys, shape.optionKeys)) {
    throw new KeywayError('internal', `provider type ${shape.type} declares operations [${shape.ops.join(', ')}] and query keys [${shape.optionKeys.join(', ')}], but its implementation has [${has.join(', ')}] and [${impl.optionKeys.join(', ')}]`);
  }
}

export function lazyProvider(shape: LazyShape, open: () => Promise<Provider>): Provider {
  let loaded: Promise<Provider> | undefined;
  const impl = (): Promise<Provider> =>
    (loaded ??= open().then((p) => {
      checkShape(shape, p);
      return p;
    }));
  /** The implementation's op, bound; checkShape made sure that a declared op exists. */
  const op = async <K extends OptionalOp>(k: K): Promise<NonNullable<Provider[K]>> => {
    const p = await impl();
    const f = p[k];
    if (f === undefined) throw new KeywayError('internal', `provider type ${shape.type} has no ${k}`);
    return f.bind(p) as NonNullable<Provider[K]>;
  };
  const has = (k: OptionalOp): boolean => shape.ops.includes(k);
  return {
    type: shape.type,
    name: shape.name,
    optionKeys: shape.optionKeys,
    lookup: async (req) => (await impl()).lookup(req),
    ...(has('lookupMany') ? { lookupMany: async (reqs, signal) => (await op('lookupMany'))(reqs, signal) } : {}),
    ...(has('version') ? { version: async (req) => (await op('version'))(req) } : {}),
    ...(has('store') ? { store: async (req) => (await op('store'))(req) } : {}),
    ...(has('delete') ? { delete: async (req) => (await op('delete'))(req) } : {}),
    ...(has('list') ? { list: async (req) => (await op('list'))(req) } : {}),
    async close() {
      // Never loaded, or refused at construction: nothing to release.
      const p = await loaded?.catch(() => undefined);
      await p?.close?.();
    },
  };
}
