// Test harness for the CSI frontend: a real gRPC server on a temp unix socket, a real grpc-js client
// dialing `unix:` with authority "localhost" like the driver, a small in-memory Resolver, and a
// logger whose output is captured so tests can prove tokens and secrets never reach it.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { credentials, loadPackageDefinition, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { resolveEach } from '../../../src/core/all-or-nothing.js';
import { KeywayError } from '../../../src/core/errors.js';
import { createLogger } from '../../../src/core/logger.js';
import type { WorkloadIdentity } from '../../../src/core/provider.js';
import { SecretValue } from '../../../src/core/secret-value.js';
import type { ResolveContext, ResolveManyOptions, Resolved, Resolver } from '../../../src/broker/types.js';
import { CsiFrontend, type CsiFrontendDeps } from '../../../src/frontends/csi/server.js';
import { CLI, type Instance } from '../../helpers/cli.js';
import type { MountRequest, MountResponse, VersionResponse } from '../../../src/frontends/csi/proto.js';
import { protoPath } from '../../../src/frontends/csi/proto-path.js';

/** Fixed bytes by target (NAME or ref+...); records what each call saw of the identity. */
export class MemoryResolver implements Resolver {
  readonly values = new Map<string, Buffer>();
  readonly seen: { target: string; identity: WorkloadIdentity; tokens: Record<string, string> }[] = [];
  calls = 0;

  set(target: string, value: string | Buffer): void {
    this.values.set(target, Buffer.isBuffer(value) ? value : Buffer.from(value));
  }

  async resolve(target: string, ctx: ResolveContext): Promise<Resolved> {
    this.calls++;
    const tokens: Record<string, string> = {};
    // Copy now: the frontend zeroes its token values once the mount is done.
    for (const [aud, t] of ctx.identity.tokens ?? []) tokens[aud] = t.token.expose().toString();
    this.seen.push({ target, identity: ctx.identity, tokens });
    const v = this.values.get(target);
    if (!v) throw new KeywayError('not_found', `no secret named ${JSON.stringify(target)}`);
    return { value: SecretValue.copyOf(v), source: target, provider: 'memory' };
  }

  resolveMany(targets: readonly string[], ctx: ResolveContext, opts?: ResolveManyOptions): Promise<Resolved[]> {
    return resolveEach(targets, (t, signal) => this.resolve(t, { ...ctx, signal }), ctx.signal, opts);
  }

  async version(): Promise<string> {
    throw new KeywayError('unsupported', 'not used by the CSI frontend');
  }
}

export interface CsiClient {
  version(version?: string): Promise<VersionResponse>;
  mount(req: Partial<MountRequest>): Promise<MountResponse>;
  close(): void;
}

export function dial(socket: string): CsiClient {
  const def = loadSync(protoPath(), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const pkg = loadPackageDefinition(def) as unknown as { v1alpha1: { CSIDriverProvider: new (addr: string, creds: ReturnType<typeof credentials.createInsecure>, opts: object) => Client } };
  const client = new pkg.v1alpha1.CSIDriverProvider(`unix:${socket}`, credentials.createInsecure(), {
    'grpc.default_authority': 'localhost',
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
    // Each test client gets its own connection, so one test's closed server cannot taint the next.
    'grpc.use_local_subchannel_pool': 1,
  });
  type Unary = (req: unknown, opts: object, cb: (err: ServiceError | null, res: unknown) => void) => void;
  const call = <T>(method: string, req: unknown): Promise<T> =>
    new Promise((resolve, reject) => {
      const fn = (client as unknown as Record<string, Unary>)[method];
      if (!fn) throw new Error(`no method ${method}`);
      fn.call(client, req, { deadline: Date.now() + 20_000 }, (err, res) => (err ? reject(err) : resolve(res as T)));
    });
  return {
    version: (version = 'v1alpha1') => call<VersionResponse>('Version', { version }),
    mount: (req) => call<MountResponse>('Mount', { attributes: '{}', secrets: '{}', target_path: '/var/lib/kubelet/pods/x/volumes/kubernetes.io~csi/secrets/mount', permission: '420', ...req }),
    close: () => client.close(),
  };
}

export interface Harness {
  readonly dir: string;
  readonly stateDir: string;
  readonly socket: string;
  readonly resolver: Resolver;
  readonly frontend: CsiFrontend;
  readonly client: CsiClient;
  /** Everything the frontend logged so far (trace level). */
  logs(): string;
}

export async function startHarness(t: { after: (fn: () => Promise<void> | void) => void }, resolver: Resolver, extra: Partial<CsiFrontendDeps> = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'kw-csi-'));
  const stateDir = extra.stateDir ?? join(dir, 'state');
  const socket = extra.socket ?? join(dir, 'providers', 'keyway.sock');
  let logText = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logText += chunk.toString();
      cb();
    },
  });
  const frontend = new CsiFrontend({ resolver, logger: createLogger('trace', sink), version: '0.0.0-test', ...extra, socket, stateDir });
  mkdirSync(stateDir, { mode: 0o700, recursive: true });
  await frontend.start();
  const client = dial(socket);
  t.after(async () => {
    client.close();
    await frontend.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, stateDir, socket, resolver, frontend, client, logs: () => logText };
}

export const POD = {
  'csi.storage.k8s.io/pod.name': 'web-7c9d',
  'csi.storage.k8s.io/pod.namespace': 'shop',
  'csi.storage.k8s.io/pod.uid': '0f7c1e9a-5a43-4c1e-9d3e-2b1f6f1c7a10',
  'csi.storage.k8s.io/serviceAccount.name': 'web',
  'csi.storage.k8s.io/ephemeral': 'true',
  secretProviderClass: 'shop-secrets',
};

/** Attributes as the driver sends them: parameters plus pod info, tokens double-encoded. */
export function attributes(objects: string, extra: Record<string, string> = {}, tokens?: Record<string, { token: string; expirationTimestamp: string }>): string {
  return JSON.stringify({
    ...POD,
    objects,
    ...(tokens ? { 'csi.storage.k8s.io/serviceAccount.tokens': JSON.stringify(tokens) } : {}),
    ...extra,
  });
}

export function grpcError(e: unknown): { code: number; details: string; keywayCode: string | undefined } {
  const err = e as ServiceError;
  const v = err.metadata?.get('keyway-error-code')[0];
  return { code: err.code, details: err.details, keywayCode: typeof v === 'string' ? v : undefined };
}

/** Starts the built `keyway serve` of instance `i` and waits for its CSI socket; output is captured. */
export async function spawnServe(t: { after: (fn: () => void) => void }, i: Instance, socket: string, args: readonly string[] = []): Promise<{ child: ChildProcessWithoutNullStreams; logs: () => string }> {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], { env: i.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let logs = '';
  child.stdout.on('data', (d: Buffer) => (logs += d.toString()));
  child.stderr.on('data', (d: Buffer) => (logs += d.toString()));
  t.after(() => child.kill('SIGKILL'));
  await waitFor(() => existsSync(socket) || child.exitCode !== null);
  if (!existsSync(socket)) throw new Error(`serve did not start: ${logs}`);
  return { child, logs: () => logs };
}

/** Polls until `cond` holds (a daemon's socket appearing), failing after `ms`. */
export async function waitFor(cond: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}
