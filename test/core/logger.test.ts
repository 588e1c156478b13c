import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, silentLogger, type LogLevel, type Logger } from '../../src/core/logger.js';
import { KeywayError } from '../../src/core/errors.js';

function capture(level: LogLevel = 'trace'): { logger: Logger; lines: () => string[]; records: () => Record<string, unknown>[] } {
  let out = '';
  const logger = createLogger(level, new Writable({ write: (c: Buffer, _e, done) => ((out += c.toString()), done()) }));
  const lines = (): string[] => out.split('\n').filter(Boolean);
  return { logger, lines, records: () => lines().map((l) => JSON.parse(l) as Record<string, unknown>) };
}

test('a record is one JSON line in pino order: level, time, pid, fields, msg', () => {
  const c = capture();
  const before = Date.now();
  c.logger.info({ socket: '/run/k.sock', n: 2 }, 'admin API listening');
  const [line] = c.lines();
  assert.match(line ?? '', new RegExp(`^\\{"level":30,"time":\\d+,"pid":${process.pid},"socket":"/run/k.sock","n":2,"msg":"admin API listening"\\}$`));
  const time = c.records()[0]?.time as number;
  assert.ok(time >= before && time <= Date.now());
});

test('a message alone, and fields alone, make records without the missing part', () => {
  const c = capture();
  c.logger.warn('no policy');
  c.logger.error({ code: 'x' });
  assert.deepEqual(c.records().map(({ level, msg, code }) => ({ level, msg, code })), [{ level: 40, msg: 'no policy', code: undefined }, { level: 50, msg: undefined, code: 'x' }]);
});

test('calls below the level write nothing, and silent writes nothing at all', () => {
  const c = capture('warn');
  c.logger.info({ a: 1 }, 'dropped');
  c.logger.debug('dropped');
  c.logger.warn('kept');
  assert.deepEqual(c.records().map((r) => r.msg), ['kept']);
  assert.equal(c.logger.isLevelEnabled('info'), false);
  assert.equal(c.logger.isLevelEnabled('error'), true);
  const s = silentLogger();
  s.fatal('nothing');
  assert.equal(s.isLevelEnabled('fatal'), false);
});

test('credential fields are censored at the top level, one level down and in headers, without touching the caller', () => {
  const c = capture();
  const fields = { token: 'CANARY-1', name: 'db', req: { password: 'CANARY-2', user: 'u' }, headers: { authorization: 'CANARY-3', 'x-vault-token': 'CANARY-4', accept: 'json' } };
  c.logger.info(fields, 'resolved');
  const line = c.lines()[0] ?? '';
  assert.ok(!line.includes('CANARY'), line);
  const r = c.records()[0] as Record<string, Record<string, unknown>>;
  assert.equal(r.token, '[redacted]');
  assert.deepEqual(r.req, { password: '[redacted]', user: 'u' });
  assert.deepEqual(r.headers, { authorization: '[redacted]', 'x-vault-token': '[redacted]', accept: 'json' });
  assert.equal(r.name, 'db');
  assert.equal(fields.token, 'CANARY-1');
  assert.equal(fields.req.password, 'CANARY-2');
});

test('an Error becomes err with type, message and stack; cycles and bigints do not throw', () => {
  const c = capture();
  c.logger.error(new Error('socket gone'));
  const cyclic: Record<string, unknown> = { big: 10n };
  cyclic.self = cyclic;
  c.logger.warn({ cyclic }, 'odd fields');
  const [e, w] = c.records() as Record<string, Record<string, unknown>>[];
  assert.equal(e?.msg, 'socket gone');
  assert.equal(e?.err?.type, 'Error');
  assert.equal(e?.err?.message, 'socket gone');
  assert.match(String(e?.err?.stack), /socket gone/);
  assert.deepEqual(w?.cyclic, { big: '10', self: '[Circular]' });
});

test('an Error record keeps the codes that say what failed: keyway\'s code, and errno, code and syscall of a system error, but not its cause', () => {
  const c = capture();
  c.logger.error({ err: new KeywayError('unavailable', 'vault is sealed', { cause: new SyntaxError('Unexpected token in "CANARY-6"') }) }, 'fetch failed');
  c.logger.warn(Object.assign(new Error("ENOENT: no such file or directory, open '/run/x'"), { code: 'ENOENT', errno: -2, syscall: 'open', path: '/run/x' }));
  const [k, s] = c.records() as Record<string, Record<string, unknown>>[];
  assert.deepEqual({ code: k?.err?.code, errno: k?.err?.errno, syscall: k?.err?.syscall }, { code: 'unavailable', errno: undefined, syscall: undefined });
  assert.deepEqual({ code: s?.err?.code, errno: s?.err?.errno, syscall: s?.err?.syscall }, { code: 'ENOENT', errno: -2, syscall: 'open' });
  assert.ok(!c.lines().join('\n').includes('CANARY'), 'the cause is not written');
});

test('a child logger adds its bindings to every record', () => {
  const c = capture();
  c.logger.child({ frontend: 'csi' }).info({ n: 1 }, 'hello');
  assert.deepEqual(c.records().map(({ frontend, n, msg }) => ({ frontend, n, msg })), [{ frontend: 'csi', n: 1, msg: 'hello' }]);
});

test('an Error in a field keeps its message and stack, and its own credential fields are not written', () => {
  const c = capture();
  c.logger.warn({ err: Object.assign(new Error('socket gone'), { token: 'CANARY-5' }) }, 'lookup failed');
  const line = c.lines()[0] ?? '';
  assert.ok(!line.includes('CANARY'), line);
  const err = (c.records()[0] as Record<string, Record<string, unknown>>).err;
  assert.equal(err?.message, 'socket gone');
  assert.match(String(err?.stack), /socket gone/);
});

test('a log call never throws: fields that cannot be serialised keep the message, and a failing destination loses only the line', () => {
  const c = capture();
  const odd = { toJSON: () => { throw new Error('no JSON'); } };
  assert.doesNotThrow(() => c.logger.warn({ odd, token: 'CANARY-6' }, 'still said'));
  const [r] = c.records();
  assert.equal(r?.msg, 'still said');
  assert.equal(r?.level, 40);
  assert.ok(!c.lines()[0]?.includes('CANARY'));
  const broken = createLogger('info', { write: () => { throw new Error('EPIPE'); } } as unknown as NodeJS.WritableStream);
  assert.doesNotThrow(() => broken.error('stderr is gone'));
});

test('an object under two fields is written under both; only a real cycle is cut', () => {
  const c = capture();
  const shared = { n: 1, inner: { m: 2 } };
  c.logger.info({ a: shared, b: shared, list: [shared, shared] }, 'twice');
  const r = c.records()[0] as Record<string, unknown>;
  assert.deepEqual(r.a, shared);
  assert.deepEqual(r.b, shared);
  assert.deepEqual(r.list, [shared, shared]);
});
