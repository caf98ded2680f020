// Reads an image's package databases off the agent's event loop: a big
// image (hundreds of packages, a hundred thousand files) takes seconds,
// during which kernel events must keep flowing. One worker thread per read;
// the result is posted back (agent/reach/package-db.ts does the reading).
import { parentPort, workerData } from 'node:worker_threads';
import { readInventory } from './package-db';

if (parentPort) {
  try {
    parentPort.postMessage({ ok: true, inventory: readInventory((workerData as { root: string }).root) });
  } catch (err) {
    parentPort.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) });
  }
}
