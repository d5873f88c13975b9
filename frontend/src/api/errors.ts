/** An API call that failed: HTTP status (0: no answer) and the backend's error code. */
export class ApiError extends Error {
  /** The backend's own words, without what was being done: for showing to the officer. */
  readonly detail: string

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    detail?: string,
  ) {
    super(message)
    this.name = 'ApiError'
    this.detail = detail ?? message
  }
}

/** Error codes the view itself gives. */
export const clientCodes = {
  /** No answer at all: the backend is not there. */
  network: 'network',
  /** An answer that breaks the contract. */
  badResponse: 'bad_response',
} as const

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/** What went wrong in words for the officer: the backend's own, without the method and path. */
export function detailOf(err: unknown): string {
  return err instanceof ApiError ? err.detail : errorText(err)
}

/** The backend's {"error":{"code","message"}} body, or http_STATUS and the start of the text. */
export async function errorFrom(res: Response, what: string): Promise<ApiError> {
  const text = await res.text().catch(() => '')
  let body: unknown
  try {
    body = text ? JSON.parse(text) : undefined
  } catch {
    body = undefined
  }
  const e = isErrorBody(body) ? body.error : undefined
  const code = typeof e?.code === 'string' && e.code ? e.code : `http_${res.status}`
  const message = typeof e?.message === 'string' && e.message ? e.message : text.slice(0, 200) || res.statusText
  return new ApiError(res.status, code, `${what}: ${message}`, message)
}

function isErrorBody(v: unknown): v is { error: { code?: unknown; message?: unknown } } {
  return typeof v === 'object' && v !== null && typeof (v as { error?: unknown }).error === 'object' && (v as { error: unknown }).error !== null
}
