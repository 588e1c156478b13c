// What can be checked about a reference without contacting a backend: for keyway's own `local`
// store, whether the value exists (its record is read, the value is not decrypted). Used by
// `ref check` and `secret create --ref`, so a reference that can never be read is refused up front.
import type { Provider } from '../core/provider.js';
import type { Reference } from '../core/reference.js';

export async function checkLocalReference(provider: Provider, ref: Reference, signal: AbortSignal): Promise<void> {
  if (provider.type !== 'local' || !provider.version) return;
  await provider.version({ path: ref.path, options: {}, signal });
}
