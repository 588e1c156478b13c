// keyway plugin SDK: implement `lookup` (and optionally store/delete/list/version), call
// `runPlugin`, and the SDK speaks protocol v1 (docs/plugin-protocol.md) on stdin/stdout in both
// lifecycles. Self-contained on purpose: a plugin depends on this package only.
import { FrameDecoder, encodeFrame } from './frames.js';

export { FrameDecoder, encodeFrame } from './frames.js';

export type ErrorCode =
  | 'not_found' | 'permission_denied' | 'invalid_argument' | 'unavailable' | 'unauthenticated'
  | 'throttled' | 'timeout' | 'too_large' | 'unsupported' | 'failed_precondition' | 'internal';

/** Throw this from a handler to answer with a stable error code. Never put secret bytes in `message`. */
export class PluginError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export interface Request {
  readonly path: string;
  readonly options: Readonly<Record<string, string>>;
}

export interface Plugin {
  readonly name: string;
  /** The plugin's own version, reported by describe. */
  readonly pluginVersion?: string;
  /** Query keys accepted in references (`ref+NAME://path?key=value`). */
  readonly optionKeys?: readonly string[];
  lookup(req: Request): Promise<Uint8Array | { value: Uint8Array; version?: string }> | Uint8Array | { value: Uint8Array; version?: string };
  store?(req: Request, value: Buffer): Promise<void> | void;
  delete?(req: Request): Promise<void> | void;
  list?(prefix: string | undefined): Promise<string[]> | string[];
  version?(req: Request): Promise<string> | string;
}

export interface Io {
  readonly input: NodeJS.ReadableStream;
  readonly output: NodeJS.WritableStream;
  /** Largest payload accepted from keyway (store). */
  readonly maxPayloadBytes?: number;
}

type Header = Record<string, unknown>;

function request(h: Header): Request {
  const options: Record<string, string> = {};
  if (typeof h.options === 'object' && h.options !== null) {
    for (const [k, v] of Object.entries(h.options)) if (typeof v === 'string') options[k] = v;
  }
  return { path: typeof h.path === 'string' ? h.path : '', options };
}

function opsOf(p: Plugin): string[] {
  return ['describe', 'lookup', ...(['store', 'delete', 'list', 'version'] as const).filter((o) => typeof p[o] === 'function')];
}

/** Handles one request frame and returns the response frame. */
export async function handle(plugin: Plugin, h: Header, payload: Buffer): Promise<Buffer[]> {
  const id = typeof h.id === 'string' ? h.id : '';
  const ok = (extra: Header = {}, body?: Uint8Array): Buffer[] => encodeFrame({ v: 1, id, ok: true, ...extra }, body);
  try {
    const req = request(h);
    switch (h.op) {
      case 'describe':
        return ok({ protocol: 1, name: plugin.name, ops: opsOf(plugin), option_keys: plugin.optionKeys ?? [], ...(plugin.pluginVersion ? { plugin_version: plugin.pluginVersion } : {}) });
      case 'lookup': {
        if (!req.path) throw new PluginError('invalid_argument', 'lookup needs a path');
        const r = await plugin.lookup(req);
        if (r instanceof Uint8Array) return ok({}, r);
        return ok(r.version ? { version: r.version } : {}, r.value);
      }
      case 'store':
        if (!plugin.store) break;
        await plugin.store(req, payload);
        return ok();
      case 'delete':
        if (!plugin.delete) break;
        await plugin.delete(req);
        return ok();
      case 'list':
        if (!plugin.list) break;
        return ok({ names: await plugin.list(typeof h.prefix === 'string' ? h.prefix : undefined) });
      case 'version':
        if (!plugin.version) break;
        return ok({ version: await plugin.version(req) });
      default:
        break;
    }
    throw new PluginError('unsupported', `operation ${JSON.stringify(String(h.op)).slice(0, 40)} is not supported`);
  } catch (e) {
    const code: ErrorCode = e instanceof PluginError ? e.code : 'internal';
    const message = e instanceof PluginError ? e.message : 'internal error in plugin';
    return encodeFrame({ v: 1, id, ok: false, error: { code, message } });
  }
}

/**
 * Serves requests until stdin ends. Requests run concurrently; each response frame is written as
 * one unit so frames never interleave.
 */
export async function runPlugin(plugin: Plugin, io: Io = { input: process.stdin, output: process.stdout }): Promise<void> {
  const decoder = new FrameDecoder(io.maxPayloadBytes ?? 1024 * 1024);
  const inflight = new Set<Promise<void>>();
  const write = (parts: Buffer[]): void => {
    io.output.write(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts));
  };
  for await (const chunk of io.input) {
    let frames;
    try {
      frames = decoder.push(chunk as Buffer);
    } catch (e) {
      process.stderr.write(`${plugin.name}: ${(e as Error).message}\n`);
      process.exitCode = 1;
      break;
    }
    for (const f of frames) {
      const p = handle(plugin, f.header, f.payload).then(write, () => undefined).finally(() => {
        f.payload.fill(0);
        inflight.delete(p);
      });
      inflight.add(p);
    }
  }
  await Promise.all(inflight);
}
