// How a CLI command learns that the user wants it to stop.

/** An AbortSignal that fires on SIGINT/SIGTERM, for commands that talk to backends. */
export function interruptSignal(): AbortSignal {
  const ac = new AbortController();
  const onSig = (): void => ac.abort(new Error('interrupted'));
  process.once('SIGINT', onSig);
  process.once('SIGTERM', onSig);
  return ac.signal;
}
