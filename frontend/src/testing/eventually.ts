// What the tests that talk to a real server (a ws bridge, an HTTP backend)
// share: waiting for the condition they check, and undoing what they
// started. A wait's limit only catches a hang: a busy machine runs them
// slowly, and timings are the benchmarks' business.
import { afterEach } from 'vitest'

/** Resolves once cond holds; rejects, naming what, if it does not within ms. */
export async function until(cond: () => boolean, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`within ${ms} ms: ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** Connection options for a test that drops sockets: it retries at once. */
export const fastRetry = { backoff: { baseMs: 20, maxMs: 80, jitter: 0 } }

/** A list whose functions run after each test of the calling file, newest first. */
export function cleanupsAfterEach(): (() => unknown)[] {
  const cleanups: (() => unknown)[] = []
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c()
  })
  return cleanups
}
