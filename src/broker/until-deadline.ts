// Waiting for a provider's answer under a deadline the provider may ignore: the wait ends when the
// deadline fires, and whatever arrives after that is wiped rather than dropped with bytes in it.
export function untilDeadline<T>(p: Promise<T>, deadline: AbortSignal, wipe: (v: T) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(deadline.reason as Error);
    if (deadline.aborted) onAbort();
    else deadline.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        deadline.removeEventListener('abort', onAbort);
        if (deadline.aborted) wipe(v);
        else resolve(v);
      },
      (e: unknown) => {
        deadline.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
