// One running plugin process: supervised by src/core/process/supervise.ts (own process group,
// SIGTERM then SIGKILL, one SIGKILL sweep of the group when the leader exits, so nothing a bare or
// bubblewrapped plugin left in the background survives), stdout parsed as frames (or collected raw for the Podman dialect),
// stderr captured and redacted.
import { KeywayError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { exitPhrase, Supervised } from '../../core/process/supervise.js';
import { FrameReader, encodeHeader, type Frame, type FrameHeader } from '../framing.js';
import type { Command } from './sandbox.js';
import { EXEC_FD } from './sandbox.js';
import { StderrSink } from './stderr.js';

/** Errors raised because stdout carried bytes that are not protocol v1 frames. */
const notFrames = new WeakSet<KeywayError>();

/**
 * True when the plugin ran and wrote something other than protocol v1 frames: it speaks another
 * protocol (registration then tries the Podman dialect). A plugin that could not start, crashed
 * silently or timed out is not this.
 */
export function answeredWithoutFrames(e: unknown): boolean {
  return e instanceof KeywayError && notFrames.has(e);
}

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when stdout broke the protocol (the process was killed for it). */
  readonly protocolError?: KeywayError;
  /** Bytes of an unfinished frame were buffered at exit. */
  readonly midFrame: boolean;
  /** Set when the process could not be started at all. */
  readonly spawnError?: KeywayError;
  /** The spec's signal fired while the process ran (it was killed for it). */
  readonly aborted: boolean;
}

export interface ProcessSpec {
  readonly name: string;
  readonly command: Command;
  readonly execFd?: number;
  readonly env: Readonly<Record<string, string>>;
  readonly logger: Logger;
  readonly maxPayloadBytes: number;
  readonly killGraceMs: number;
  /** Longest stderr is held back while requests are in flight (deadline + redaction window). */
  readonly stderrHoldMs?: number;
  /** 'frames' parses protocol v1; 'raw' collects stdout (Podman dialect). */
  readonly stdoutMode: 'frames' | 'raw';
  readonly onFrame?: (frame: Frame) => void;
  /** Aborting kills the process group (oneshot requests); ExitInfo.aborted tells. */
  readonly signal?: AbortSignal;
  /** SIGKILL the group when the leader exits (default true; false for a container engine). */
  readonly sweep?: boolean;
}

export class PluginProcess {
  readonly stderr: StderrSink;
  readonly exited: Promise<ExitInfo>;
  readonly #proc: Supervised;
  readonly #spec: ProcessSpec;
  readonly #reader: FrameReader;
  #protocolError: KeywayError | undefined;
  #raw: Buffer[] = [];
  #rawLen = 0;

  constructor(spec: ProcessSpec) {
    this.#spec = spec;
    this.stderr = new StderrSink(spec.logger, spec.name, 1000, spec.stderrHoldMs);
    this.#reader = new FrameReader({ maxPayloadBytes: spec.maxPayloadBytes });
    const stdio: ('pipe' | number)[] = ['pipe', 'pipe', 'pipe'];
    if (spec.execFd !== undefined) stdio[EXEC_FD] = spec.execFd;
    // Bind directories for bubblewrap follow at 4, 5, ...; it closes them before the plugin runs.
    spec.command.bindFds.forEach((fd, i) => {
      stdio[EXEC_FD + 1 + i] = fd;
    });
    if (spec.command.bindFds.length > 0 && spec.execFd === undefined) throw new KeywayError('internal', 'bind descriptors need the executable descriptor');
    this.#proc = new Supervised({
      file: spec.command.file,
      args: spec.command.args,
      env: spec.env,
      cwd: '/',
      stdio,
      graceMs: spec.killGraceMs,
      ...(spec.signal ? { signal: spec.signal } : {}),
      ...(spec.sweep !== undefined ? { sweep: spec.sweep } : {}),
    });
    const child = this.#proc.child;
    child.stdin?.on('error', () => {
      // EPIPE when the plugin exits without reading: reported through the exit status instead.
    });
    child.stdout?.on('data', (chunk: Buffer) => this.#onStdout(chunk));
    child.stderr?.on('data', (chunk: Buffer) => this.stderr.write(chunk));
    this.exited = this.#proc.closed.then((ended) => {
      const spawnError = ended.spawnError
        ? new KeywayError('unavailable', `plugin ${spec.name} could not be started: ${ended.spawnError.code ?? 'error'}`, { cause: ended.spawnError })
        : undefined;
      if (this.#rawLen > 0) {
        // Redact the whole raw answer (it may have arrived split across chunks).
        const all = Buffer.concat(this.#raw, this.#rawLen);
        this.stderr.protect(all);
        all.fill(0);
      }
      this.stderr.close();
      const info: ExitInfo = {
        code: ended.code,
        signal: ended.signal,
        aborted: ended.aborted,
        midFrame: spec.stdoutMode === 'frames' && this.#reader.midFrame,
        ...(this.#protocolError ? { protocolError: this.#protocolError } : {}),
        ...(spawnError ? { spawnError } : {}),
      };
      this.#reader.reset();
      return info;
    });
  }

  get pid(): number | undefined {
    return this.#proc.pid;
  }

  get alive(): boolean {
    return this.#proc.alive;
  }

  /** Alive and not being killed: safe to send more requests to. */
  get accepting(): boolean {
    return this.#proc.alive && !this.#proc.stopping && this.#protocolError === undefined;
  }

  /** Raw stdout collected so far (Podman dialect). Ownership passes to the caller. */
  takeRaw(): Buffer {
    const out = Buffer.allocUnsafeSlow(this.#rawLen);
    let off = 0;
    for (const b of this.#raw) {
      b.copy(out, off);
      off += b.length;
      b.fill(0);
    }
    this.#raw = [];
    this.#rawLen = 0;
    return out;
  }

  /** Writes one frame. The payload Buffer must stay intact until the write is flushed. */
  writeFrame(header: FrameHeader, payload?: Buffer): void {
    const stdin = this.#proc.child.stdin;
    if (!stdin || stdin.destroyed || !stdin.writable) throw new KeywayError('unavailable', `plugin ${this.#spec.name} is not accepting requests`);
    stdin.cork();
    stdin.write(encodeHeader(header));
    if (payload && payload.length > 0) stdin.write(payload);
    stdin.uncork();
  }

  writeRaw(bytes: Buffer): void {
    this.#proc.child.stdin?.write(bytes);
  }

  endInput(): void {
    this.#proc.child.stdin?.end();
  }

  /** SIGTERM to the group, SIGKILL after the grace period. */
  kill(): void {
    this.#proc.stop();
  }

  #onStdout(chunk: Buffer): void {
    if (this.#spec.stdoutMode === 'raw') {
      if (this.#rawLen + chunk.length > this.#spec.maxPayloadBytes) {
        chunk.fill(0);
        this.#protocolError ??= new KeywayError('too_large', `plugin ${this.#spec.name} wrote more than ${this.#spec.maxPayloadBytes} bytes`);
        this.kill();
        return;
      }
      this.#raw.push(Buffer.from(chunk));
      this.#rawLen += chunk.length;
      chunk.fill(0);
      return;
    }
    if (this.#protocolError) {
      chunk.fill(0);
      return;
    }
    let frames: Frame[];
    try {
      frames = this.#reader.push(chunk, true);
    } catch (e) {
      const err = e instanceof KeywayError ? e : new KeywayError('internal', 'frame reader failed');
      this.#protocolError = new KeywayError(err.code === 'too_large' ? 'too_large' : 'internal', `plugin ${this.#spec.name} broke the protocol: ${err.message}`);
      notFrames.add(this.#protocolError);
      this.kill();
      return;
    }
    for (const f of frames) {
      if (f.payload.length > 0) this.stderr.protect(f.payload);
      this.#spec.onFrame?.(f);
    }
  }

  /** Marks stdout as broken by a higher-level check (unknown id, extra frame) and kills. */
  fail(err: KeywayError): void {
    this.#protocolError ??= err;
    this.kill();
  }
}

/** Describes how a process ended, for error messages (with the redacted stderr tail). */
export function describeExit(name: string, info: ExitInfo, stderrTail: string): KeywayError {
  if (info.spawnError) return info.spawnError;
  if (info.protocolError) return info.protocolError;
  const how = exitPhrase(info);
  const where = info.midFrame ? ' in the middle of a frame' : ' before answering';
  const tail = stderrTail ? `; stderr: ${stderrTail.replace(/\s+/g, ' ').slice(-300)}` : '';
  const err = new KeywayError('unavailable', `plugin ${name} ${how}${where}${tail}`);
  if (info.midFrame) notFrames.add(err);
  return err;
}
