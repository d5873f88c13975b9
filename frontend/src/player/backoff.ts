// Reconnect delays: doubling from baseMs up to maxMs, spread by jitter so
// that the sixteen tiles of a wall do not all knock at the same instant
// when the backend comes back.

export interface BackoffOptions {
  baseMs: number
  maxMs: number
  /** Fraction (0–1) by which a delay may be shortened or lengthened at random. */
  jitter: number
}

export const defaultBackoff: BackoffOptions = { baseMs: 500, maxMs: 10_000, jitter: 0.2 }

/** The delay before reconnect attempt number `attempt` (0: the first retry). Never above maxMs. */
export function backoffDelay(attempt: number, o: BackoffOptions = defaultBackoff, random: () => number = Math.random): number {
  const n = Math.max(0, Math.floor(Number.isFinite(attempt) ? attempt : 0))
  // 2^n overflows to Infinity for large n; min() then caps it.
  const nominal = Math.min(o.maxMs, o.baseMs * 2 ** n)
  const j = Math.min(1, Math.max(0, o.jitter))
  const spread = nominal * (1 - j + 2 * j * random())
  return Math.round(Math.min(o.maxMs, Math.max(0, spread)))
}
