// Rendering: fetch every distinct target once, apply each placeholder's filters, and assemble the
// output in one wiped-on-release SecretValue. All or nothing: any failure zeroes what was fetched
// and throws a KeywayError naming FILE:LINE:COL of the first placeholder concerned, with the code
// of the cause (an unknown secret stays `not_found`). The output is never larger than `maxBytes`.
import { KeywayError, toKeywayError } from '../core/errors.js';
import { SecretValue } from '../core/secret-value.js';
import { applyFilters } from './filters.js';
import { locate, type Placeholder, type Template } from './syntax.js';

/** Fetches the bytes of one NAME or REF; the renderer owns (and zeroes) the value it returns. */
export type Fetch = (target: string) => Promise<SecretValue>;

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
  const settled = await Promise.allSettled(tpl.targets.map((t) => fetch(t)));
  const values = new Map<string, SecretValue>();
  let failure: KeywayError | undefined;
  settled.forEach((s, i) => {
    const target = tpl.targets[i] as string;
    if (s.status === 'fulfilled') values.set(target, s.value);
    else failure ??= at(tpl, firstUse(tpl, target), s.reason);
  });
  const pieces: Buffer[] = [];
  const owned: Buffer[] = [];
  try {
    if (failure) throw failure;
    let total = 0;
    for (const s of tpl.segments) {
      let piece: Buffer;
      if (s.kind === 'text') piece = s.bytes;
      else {
        const value = values.get(s.target) as SecretValue;
        try {
          piece = applyFilters(value.expose(), s.filters);
        } catch (e) {
          throw at(tpl, s, e, s.filters.length > 0 ? `filter ${s.filters.join(' | ')}` : undefined);
        }
        owned.push(piece);
      }
      total += piece.length;
      if (total > maxBytes) throw new KeywayError('too_large', `${tpl.file}: the rendered output is larger than limits.max_secret_bytes (${maxBytes} bytes)`);
      pieces.push(piece);
    }
    const out = Buffer.allocUnsafeSlow(total);
    let o = 0;
    for (const p of pieces) o += p.copy(out, o);
    return SecretValue.adopt(out);
  } finally {
    for (const b of owned) b.fill(0);
    for (const v of values.values()) v.zero();
  }
}
