// oneshot lifecycle: one process per request. Write one frame, close stdin, expect exactly one
// frame back and exit status 0, all within the deadline; otherwise kill the group.
import { KeywayError } from '../../core/errors.js';
import { exitPhrase } from '../../core/process/supervise.js';
import type { Frame, FrameHeader } from '../framing.js';
import type { PluginEntry } from '../entry.js';
import { launch, type HostDeps } from './launcher.js';
import { describeExit, type PluginProcess } from './process.js';
import { abortError } from './signals.js';

export async function oneshotRequest(entry: PluginEntry, deps: HostDeps, header: FrameHeader, payload: Buffer | undefined, signal: AbortSignal): Promise<Frame> {
  if (signal.aborted) throw abortError(entry.name, signal);
  let frame: Frame | undefined;
  let proc: PluginProcess | undefined = undefined;
  const p = launch(entry, deps, {
    lifecycle: 'oneshot',
    stdoutMode: 'frames',
    signal,
    onFrame: (f) => {
      if (frame !== undefined) {
        f.payload.fill(0);
        proc?.fail(new KeywayError('internal', `plugin ${entry.name} broke the protocol: more than one response frame in oneshot mode`));
        return;
      }
      frame = f;
    },
  });
  proc = p;
  p.stderr.begin();
  if (payload) p.stderr.protect(payload);
  try {
    p.writeFrame(header, payload);
    p.endInput();
  } catch {
    // the exit status explains it
  }
  const info = await p.exited;
  p.stderr.end();
  const got = frame;
  if (info.aborted) {
    got?.payload.fill(0);
    throw abortError(entry.name, signal);
  }
  if (info.protocolError || info.spawnError || got === undefined) {
    got?.payload.fill(0);
    throw describeExit(entry.name, info, p.stderr.tail());
  }
  if (info.midFrame) {
    got.payload.fill(0);
    throw new KeywayError('internal', `plugin ${entry.name} broke the protocol: bytes after the response frame in oneshot mode`);
  }
  if (info.code !== 0) {
    got.payload.fill(0);
    throw new KeywayError('unavailable', `plugin ${entry.name} ${exitPhrase(info)} after answering`);
  }
  if (id(got.header) !== id(header)) {
    got.payload.fill(0);
    throw new KeywayError('internal', `plugin ${entry.name} broke the protocol: response id does not match the request`);
  }
  return got;
}

function id(h: FrameHeader): unknown {
  return h.id;
}
