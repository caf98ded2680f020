// Waiting for the operator: SIGINT or SIGTERM (or a --duration), the one way
// every long-running command (agent, trace, up, controlplane, alerts
// --follow) knows it is time to stop.

/** Resolves on SIGINT/SIGTERM, or after durationMs when given. */
export async function untilStopped(durationMs?: number): Promise<void> {
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      if (timer) clearTimeout(timer);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    const timer = durationMs !== undefined ? setTimeout(stop, durationMs) : undefined;
  });
}
