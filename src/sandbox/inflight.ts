// Boxes this process is bringing up right now, so that a `down` (for example from Ctrl-C cleanup) can cancel them first.
export interface InFlight {
  readonly controller: AbortController;
  /** Settles once `up` has finished, including its own cleanup after a failure or cancellation. */
  readonly done: Promise<void>;
}

export const inFlight = new Map<string, InFlight>();

/** Registers an `up` in progress; call the returned function when it has finished. */
export function beginUp(name: string): { signal: AbortSignal; finish: () => void } {
  const controller = new AbortController();
  let finish = (): void => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  inFlight.set(name, { controller, done });
  return {
    signal: controller.signal,
    finish: () => {
      inFlight.delete(name);
      finish();
    },
  };
}
