// Rendering: fetch every distinct target once, apply each placeholder's filters, and assemble the
// output in one wiped-on-release SecretValue. All or nothing: any failure zeroes what was fetched
// and throws a KeywayError naming FILE:LINE:COL of the first placeholder concerned, with the code
// of the cause (an unknown secret stays `not_found`). The output is never larger than `maxBytes`.
import { KeywayError, toKeywayError } from '../core/errors.js';
import { SecretValue } from '../core/secret-value.js';
import { prepareChain, type Chain } from './filters.js';
import { locate, type Placeholder, type Template } from './syntax.js';

/** Fetches one NAME or REF (a broker's Resolved fits); the renderer owns and zeroes the value. */
export type Fetch = (target: string) => Promise<{ readonly value: SecretValue }>;

function at(tpl: Template, p: Placeholder, e: unknown, what?: string): KeywayError {
  const err = toKeywayError(e);
  const where = locate(tpl.file, p.line, p.col);
  return new KeywayError(err.code, `${where}: ${what ? `${what}: ` : ''}${err.message}`, { cause: err });
}

function firstUse(tpl: Template, target: string): Placeholder {
  for (const s of tpl.segments) if (s.kind === 'placeholder' && s.target === target) return s;
  throw new KeywayError('internal', 'template target without a placeholder');
}

export async function renderTemplate(tpl: Template, fetch: Fetch, maxBytes: number): Promise<SecretValue> {
  // Promise.all with a catch per target: allSettled costs twice as much on the cached path.
  const errors: unknown[] = [];
  const fetched = await Promise.all(
    tpl.targets.map((t, i) =>
      fetch(t).catch((e: unknown) => {
        errors[i] = e;
        return undefined;
      }),
    ),
  );
  const values: SecretValue[] = [];
  let failure: KeywayError | undefined;
  tpl.targets.forEach((target, i) => {
    const r = fetched[i];
    if (r !== undefined) values[i] = r.value;
    else failure ??= at(tpl, firstUse(tpl, target), errors[i]);
  });
  // Two passes: size every piece (filters check their input here), then write once into the output.
  const chains: Chain[] = [];
  const sizes: number[] = [];
  try {
    if (failure) throw failure;
    let total = 0;
    for (const s of tpl.segments) {
      if (s.kind === 'text') total += s.bytes.length;
      else {
        const value = values[s.index] as SecretValue;
        try {
          const chain = prepareChain(value.expose(), s.filters);
          chains.push(chain);
          const size = chain.last ? chain.last.size(chain.input) : chain.input.length;
          sizes.push(size);
          total += size;
        } catch (e) {
          throw at(tpl, s, e, s.filters.length > 0 ? `filter ${s.filters.join(' | ')}` : undefined);
        }
      }
      if (total > maxBytes) throw new KeywayError('too_large', `${tpl.file}: the rendered output is larger than limits.max_secret_bytes (${maxBytes} bytes)`);
    }
    const out = Buffer.allocUnsafeSlow(total);
    let o = 0;
    let c = 0;
    for (const s of tpl.segments) {
      if (s.kind === 'text') {
        // TypedArray#set: Buffer#copy costs more than these small copies themselves.
        out.set(s.bytes, o);
        o += s.bytes.length;
      }
      else {
        const chain = chains[c] as Chain;
        if (chain.last) chain.last.write(chain.input, out, o);
        else out.set(chain.input, o);
        o += sizes[c++] as number;
      }
    }
    return SecretValue.adopt(out);
  } finally {
    for (const chain of chains) for (const b of chain.scratch) b.fill(0);
    for (const v of values) v?.zero();
  }
}
