/** SIGTERM and SIGINT start one graceful shutdown; a second signal while draining does not start another. */

export function onShutdownSignal(shutdown: (signal: NodeJS.Signals) => void): void {
  let started = false;
  const handler = (signal: NodeJS.Signals) => {
    if (started) return;
    started = true;
    shutdown(signal);
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
