// Polling for a condition in tests, with a message that says what never happened.

/** Poll every 20 ms until `cond()` holds; fail after timeoutMs naming `what`. */
export async function until(what: string, cond: () => boolean, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
