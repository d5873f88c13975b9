// A document of the relay (a notice's PDF, a report) reaches the officer:
// in the browser as a download; in the Wails window, whose WebKitGTK shows
// no PDF and downloads nothing, saved by the backend in the download
// folder, with where it went said on screen.
import type { ApiClient } from '../api'
import type { ReportQuery } from '../api/supervision'

export type Delivered = { saved: string } | { downloaded: string }

/** Whether the view runs in the Wails window (its runtime is injected). */
export function inWindow(): boolean {
  return typeof (window as unknown as { runtime?: unknown }).runtime === 'object'
}

export async function deliver(api: ApiClient, what: { notice: string; lang: string } | ReportQuery): Promise<Delivered> {
  if (inWindow()) return { saved: (await api.save(what)).path }
  const file = await api.download(what)
  const url = URL.createObjectURL(file.blob)
  const a = document.createElement('a')
  a.href = url
  a.download = file.name
  a.rel = 'noopener'
  document.body.append(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 60_000)
  return { downloaded: file.name }
}
