// The provider contract: every built-in provider, against its emulator or real tool, fails the same
// way for the same situation — not_found, permission_denied, a retried code in an outage, timeout
// and cancelled from the caller's AbortSignal, too_large — reads binary values exactly, works with
// #/json/pointer fragments, and never puts a secret value into an error. Harnesses live in
// ./contract/; a case a provider cannot express is declared there with its reason, which the test
// title reports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTransient, KeywayError } from '../../src/core/errors.js';
import { BUILTIN_PROVIDERS } from '../../src/providers/builtin.js';
import { testCtx } from '../emulators/broker.js';
import { testBroker, UNCACHED_POLICY } from '../helpers/broker.js';
import type { ContractBackend, FailureMode, Target, TestContext } from './contract/harness.js';
import { HARNESSES } from './contract/table.js';
import { req } from './helpers.js';

const SECRET = 'contract-s3cr3t-4711';
const DOC = JSON.stringify({ db: { user: 'app', password: SECRET } });
/** Every byte value, then NUL and newlines at the end, where text handling would trim. */
const BYTES = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from('\n\0\n\n')]);

function lookup(b: ContractBackend, target: Target, signal: AbortSignal = new AbortController().signal) {
  return b.provider.lookup(req(target.path, target.options ?? {}, signal));
}

/** Error text that must not carry the value in any form a backend might echo. */
function assertNoSecret(e: unknown): void {
  const text = `${String((e as Error).message)}\n${String((e as Error).stack)}`;
  for (const form of [SECRET, Buffer.from(SECRET).toString('base64'), Buffer.from(DOC).toString('base64')]) assert.ok(!text.includes(form), `the error quotes the secret: ${text.split('\n')[0] ?? ''}`);
}

async function failure(p: Promise<unknown>): Promise<KeywayError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof KeywayError, `expected a KeywayError, got ${String(e)}`);
    assertNoSecret(e);
    return e;
  }
  assert.fail('expected the lookup to fail');
}

test('the contract table covers every built-in provider type', () => {
  assert.deepEqual(HARNESSES.map((h) => h.type).sort(), BUILTIN_PROVIDERS.map((f) => f.type).sort());
});

for (const h of HARNESSES) {
  /** A test on a fresh backend holding DOC at `seeded`. */
  const contract = (title: string, body: (b: ContractBackend, seeded: Target, t: TestContext) => Promise<void>): void => {
    test(`${h.type}: ${title}`, { skip: h.skip }, async (t) => {
      const b = await h.setup(t);
      await body(b, await b.putText('seeded', DOC), t);
    });
  };
  /** A test that needs a failure mode, or one that states why the provider has no such mode. */
  const when = <M extends FailureMode>(mode: M, title: string, body: (b: ContractBackend, m: NonNullable<ContractBackend[M]>, seeded: Target, t: TestContext) => Promise<void>): void => {
    const reason = h.unsupported[mode];
    if (reason !== undefined) {
      // Not a skip: the case is settled for this provider, and the table must say why.
      test(`${h.type}: ${title} — not applicable: ${reason}`, { skip: h.skip }, async (t) => {
        assert.ok(reason.length > 20, 'the reason explains itself');
        assert.equal((await h.setup(t))[mode], undefined, `the ${h.type} harness provides "${mode}" yet declares it unsupported`);
      });
      return;
    }
    contract(title, async (b, seeded, t) => {
      const m = b[mode];
      assert.ok(m, `the ${h.type} harness neither provides "${mode}" nor says why it cannot`);
      await body(b, m, seeded, t);
    });
  };

  contract('a missing secret is not_found', async (b) => {
    assert.equal((await failure(lookup(b, b.missing))).code, 'not_found');
  });

  when('denied', 'a secret its identity may not read is permission_denied', async (b, deny) => {
    const target = await deny('denied', DOC);
    assert.equal((await failure(lookup(b, target))).code, 'permission_denied');
  });

  when('outage', 'an outage fails with a code the broker retries, and the next lookup after it works', async (b, outage, seeded) => {
    await outage.on();
    const e = await failure(lookup(b, seeded));
    assert.ok(isTransient(e), `expected unavailable, throttled or timeout, got ${e.code}: ${e.message}`);
    await outage.off();
    assert.equal((await lookup(b, seeded)).expose().toString(), DOC);
  });

  when('hang', 'a backend that never answers is a timeout when the caller\'s deadline passes', async (b, hang, seeded) => {
    await hang.on();
    const started = Date.now();
    assert.equal((await failure(lookup(b, seeded, AbortSignal.timeout(300)))).code, 'timeout');
    assert.ok(Date.now() - started < 5_000, 'the deadline is honoured promptly');
  });

  when('hang', 'aborting the caller\'s signal cancels a lookup in flight', async (b, hang, seeded) => {
    await hang.on();
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    assert.equal((await failure(lookup(b, seeded, ac.signal))).code, 'cancelled');
  });

  contract('an already aborted signal is cancelled before the backend is asked', async (b, seeded) => {
    assert.equal((await failure(lookup(b, seeded, AbortSignal.abort()))).code, 'cancelled');
  });

  when('oversize', 'an answer larger than the provider accepts is too_large', async (b, oversize, seeded) => {
    await oversize.on();
    assert.equal((await failure(lookup(b, seeded))).code, 'too_large');
  });

  contract('a binary value comes back byte for byte', async (b) => {
    const target = await b.putBinary('binary', BYTES);
    assert.deepEqual((await lookup(b, target)).expose(), BYTES);
  });

  contract('a #/json/pointer fragment selects a field, and a missing field is not_found', async (b, seeded, t) => {
    const broker = testBroker(t, [b.provider], { defaultPolicy: UNCACHED_POLICY }).broker;
    const query = new URLSearchParams(seeded.options ?? {}).toString();
    const ref = `ref+${b.provider.name}://${seeded.path}${query ? `?${query}` : ''}`;
    assert.equal((await broker.resolve(`${ref}#/db/password`, testCtx())).value.expose().toString(), SECRET);
    assert.equal((await failure(broker.resolve(`${ref}#/db/nope`, testCtx()))).code, 'not_found');
  });

  contract('no failure quotes a stored value', async (b, seeded) => {
    // Each failure above already checks its own error; this one runs them back to back against the
    // same backend, where values from earlier lookups could linger in a buffer or a message.
    await lookup(b, seeded);
    const errors: KeywayError[] = [await failure(lookup(b, b.missing))];
    for (const mode of [b.outage, b.oversize, b.hang]) {
      if (!mode) continue;
      await mode.on();
      errors.push(await failure(lookup(b, seeded, AbortSignal.timeout(1_000))));
      await mode.off();
    }
    if (b.denied) errors.push(await failure(lookup(b, await b.denied('denied', DOC))));
    assert.equal(errors.length, 1 + 4 - Object.keys(h.unsupported).length, 'every expressible failure was provoked');
  });
}
