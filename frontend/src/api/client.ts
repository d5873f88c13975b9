import { ApiError, clientCodes, errorFrom, errorText } from './errors'
import { EventStream, type EventStreamOptions, type StreamHandlers } from './events'
import {
  ContractError,
  parseBootstrap,
  parseCameraList,
  parseLayout,
  parseLayoutList,
  parseSession,
  parseTour,
  parseTourList,
  tourJSON,
} from './parse'
import type { Bootstrap, Camera, Layout, Session, SignIn, StreamKind, Tour } from './types'
import { VideoHost } from '../player/host'
import { muxAddress, type MuxOpen } from '../player/mux'
import { startVideoWorker } from '../player/worker'
import {
  editJSON,
  flagJSON,
  findingsPath,
  parseFinding,
  parseFindings,
  parseFreshness,
  parseRun,
  parseRunUpdate,
  parseTemplates,
  recheckJSON,
  type Finding,
  type FindingEdit,
  type FindingsQuery,
  type FlagRequest,
  type Freshness,
  type Mark,
  type RecheckShot,
  type RunState,
  type RunUpdate,
  type Template,
} from './findings'

import { parseDraft, parseHandover, parseHandoverView, parseShiftNow, type Handover, type HandoverDraft, type HandoverRequest, type HandoverView, type ShiftNow } from './shifts'
import { parseRunRecord, parseRunRecords, type RunRecord } from './runs'
import { parseCoverage, parseMoments, parseUnwatched, type Coverage, type Moments, type Unwatched, type Watching } from './coverage'
import { outcomeJSON, parseFacets, parseReviewDetail, parseReviewPage, type Facets, type OutcomeRequest, type ReviewDetail, type ReviewPage } from './review'
import {
  parseCheckStats,
  parseFindingStats,
  parseFollowup,
  parseFollowups,
  parseNotice,
  parseNotices,
  parseOverdue,
  parseRanked,
  parseRectification,
  parseRepeats,
  parseSaved,
  parseShiftCoverage,
  reportParams,
  type CheckStats,
  type Download,
  type FindingStats,
  type Followup,
  type Notice,
  type NoticeRequest,
  type OverdueStats,
  type RankedSite,
  type RectificationStats,
  type RepeatSite,
  type ReportQuery,
  type Saved,
  type ShiftCoverage,
} from './supervision'
export { ApiError } from './errors'

export interface ClientOptions {
  /** Per-launch secret, sent as Bearer; none in the Wails window. */
  secret?: string
  /** Origin to call; empty means the page's own. */
  base?: string
  timeoutMs?: number
}

/** The console backend's HTTP API. The only place in the view that calls fetch. */
export class ApiClient {
  private readonly base: string
  private readonly timeoutMs: number

  constructor(private readonly opts: ClientOptions = {}) {
    this.base = (opts.base ?? '').replace(/\/$/, '')
    this.timeoutMs = opts.timeoutMs ?? 10_000
  }

  async bootstrap(): Promise<Bootstrap> {
    const path = '/api/v1/bootstrap'
    return contract((v) => parseBootstrap(v, path), await this.request('GET', path))
  }

  /** The sign-in state. A backend from before sign-in answers 404 not_found. */
  async session(): Promise<Session> {
    const path = '/api/v1/session'
    return contract((v) => parseSession(v, path), await this.request('GET', path))
  }

  /** Signs in to a relay: 401 wrong_password, 502 relay_unreachable, 400 bad_request. */
  async signIn(s: SignIn): Promise<Session> {
    const path = '/api/v1/session'
    return contract((v) => parseSession(v, path), await this.request('POST', path, s))
  }

  async signOut(): Promise<void> {
    await this.request('DELETE', '/api/v1/session')
  }

  async cameras(): Promise<Camera[]> {
    const path = '/api/v1/cameras'
    return contract((v) => parseCameraList(v, path), await this.request('GET', path))
  }

  async layouts(): Promise<Layout[]> {
    const path = '/api/v1/layouts'
    return contract((v) => parseLayoutList(v, path), await this.request('GET', path))
  }

  async saveLayout(l: Layout): Promise<Layout> {
    const path = `/api/v1/layouts/${encodeURIComponent(l.name)}`
    return contract((v) => parseLayout(v, path), await this.request('PUT', path, l))
  }

  async deleteLayout(name: string): Promise<void> {
    await this.request('DELETE', `/api/v1/layouts/${encodeURIComponent(name)}`)
  }

  async tours(): Promise<Tour[]> {
    const path = '/api/v1/tours'
    return contract((v) => parseTourList(v, path), await this.request('GET', path))
  }

  async saveTour(t: Tour): Promise<Tour> {
    const path = `/api/v1/tours/${encodeURIComponent(t.name)}`
    return contract((v) => parseTour(v, path), await this.request('PUT', path, tourJSON(t)))
  }

  async deleteTour(name: string): Promise<void> {
    await this.request('DELETE', `/api/v1/tours/${encodeURIComponent(name)}`)
  }

  /** What is on the officer's screen now (issue 11.4); the same again is a heartbeat. */
  async putWatching(visible: Watching[]): Promise<void> {
    await this.request('PUT', '/api/v1/watching', { visible })
  }

  /** The relay's coverage of the shift under way. */
  async coverage(): Promise<Coverage> {
    const path = '/api/v1/coverage'
    return contract((v) => parseCoverage(v, path), await this.request('GET', path))
  }

  async moments(back = '1h', ahead = '1h'): Promise<Moments> {
    const path = `/api/v1/coverage/moments?back=${back}&ahead=${ahead}`
    return contract((v) => parseMoments(v, path), await this.request('GET', path))
  }

  async unwatched(): Promise<Unwatched> {
    const path = '/api/v1/coverage/unwatched'
    return contract((v) => parseUnwatched(v, path), await this.request('GET', path))
  }

  /** The newest checklist templates for a zone (every template without one). */
  async checklists(zone?: string): Promise<Template[]> {
    const path = zone ? `/api/v1/checklists?zone=${encodeURIComponent(zone)}` : '/api/v1/checklists'
    return contract((v) => parseTemplates(v, path), await this.request('GET', path))
  }

  /** Starts observing one procedure on a camera; version 0 is the newest. */
  async startRun(templateId: string, camera: string, templateVersion = 0): Promise<RunState> {
    const path = '/api/v1/runs'
    const body = { template_id: templateId, template_version: templateVersion, camera }
    return contract((v) => parseRun(v, path), await this.request('POST', path, body))
  }

  /** Marks a step; the answer carries the flags the order rules raised. `deviationText`: a deviation in the officer's own words. */
  async mark(runId: string, step: string, mark: Mark, deviation = '', deviationText = ''): Promise<RunUpdate> {
    const path = `/api/v1/runs/${encodeURIComponent(runId)}/marks`
    const body: Record<string, string> = { step, mark }
    if (deviation) body.deviation = deviation
    if (deviationText) body.deviation_text = deviationText
    return contract((v) => parseRunUpdate(v, path), await this.request('POST', path, body))
  }

  /** The runs going on, oldest first: what a reloaded page goes on with. */
  async openRuns(): Promise<RunRecord[]> {
    const path = '/api/v1/runs?open=1'
    return contract((v) => parseRunRecords(v, path), await this.request('GET', path))
  }

  async run(runId: string): Promise<RunRecord> {
    const path = `/api/v1/runs/${encodeURIComponent(runId)}`
    return contract((v) => parseRunRecord(v, path), await this.request('GET', path))
  }

  /** Ends the run: from then on it counts as a check performed. */
  async endRun(runId: string): Promise<RunRecord> {
    const path = `/api/v1/runs/${encodeURIComponent(runId)}/end`
    return contract((v) => parseRunRecord(v, path), await this.request('POST', path))
  }

  /** Records that the run produced the finding; 409 already_recorded when it has. */
  async linkRunFinding(runId: string, findingId: string): Promise<RunRecord> {
    const path = `/api/v1/runs/${encodeURIComponent(runId)}/findings`
    return contract((v) => parseRunRecord(v, path), await this.request('POST', path, { finding_id: findingId }))
  }

  async timer(runId: string, step: string, action: 'start' | 'stop'): Promise<RunUpdate> {
    const path = `/api/v1/runs/${encodeURIComponent(runId)}/timers`
    return contract((v) => parseRunUpdate(v, path), await this.request('POST', path, { step, action }))
  }

  /** Flags a finding; resolves once its row is committed (201). */
  async flag(f: FlagRequest): Promise<Finding> {
    const path = '/api/v1/findings'
    return contract((v) => parseFinding(v, path), await this.request('POST', path, flagJSON(f)))
  }

  /** Findings newest first; the backend's default is the last 24 h, and every age with a status or overdue filter. */
  async findings(q: Date | FindingsQuery = {}): Promise<Finding[]> {
    const path = findingsPath(q instanceof Date ? { since: q } : q)
    return contract((v) => parseFindings(v, path), await this.request('GET', path))
  }

  /** findings, with how current the relay's findings in it are (issue 11). */
  async findingsPage(q: FindingsQuery = {}): Promise<{ findings: Finding[]; freshness?: Freshness }> {
    const path = findingsPath(q)
    const body = await this.request('GET', path)
    return { findings: contract((v) => parseFindings(v, path), body), freshness: parseFreshness(body) }
  }

  async finding(id: string): Promise<Finding> {
    const path = `/api/v1/findings/${encodeURIComponent(id)}`
    return contract((v) => parseFinding(v, path), await this.request('GET', path))
  }

  /** Edits a finding the site does not have yet: 409 forwarded once it has. */
  async editFinding(id: string, e: FindingEdit): Promise<Finding> {
    const path = `/api/v1/findings/${encodeURIComponent(id)}`
    return contract((v) => parseFinding(v, path), await this.request('PATCH', path, editJSON(e)))
  }

  async withdrawFinding(id: string, reason: string): Promise<Finding> {
    const path = `/api/v1/findings/${encodeURIComponent(id)}/withdraw`
    return contract((v) => parseFinding(v, path), await this.request('POST', path, { reason }))
  }

  /** Closes a rectified finding after its re-check on video; 409 bad_transition for any other. */
  async verifyFinding(id: string, note: string, shot?: RecheckShot): Promise<Finding> {
    const path = `/api/v1/findings/${encodeURIComponent(id)}/verify`
    return contract((v) => parseFinding(v, path), await this.request('POST', path, recheckJSON(note, undefined, shot)))
  }

  /** Sends a rectified finding back to the site with a new deadline. */
  async reopenFinding(id: string, note: string, deadline: Date, shot?: RecheckShot): Promise<Finding> {
    const path = `/api/v1/findings/${encodeURIComponent(id)}/reopen`
    return contract((v) => parseFinding(v, path), await this.request('POST', path, recheckJSON(note, deadline, shot)))
  }

  /** Sends the changes the relay refused again; 409 nothing_failing when none was. */
  async retryFinding(id: string): Promise<Finding> {
    const path = `/api/v1/findings/${encodeURIComponent(id)}/retry`
    return contract((v) => parseFinding(v, path), await this.request('POST', path, {}))
  }

  /** Where an <img> or <video> loads a snapshot or clip: the secret rides in the query. */
  evidenceURL(file: string): string {
    const url = `${this.base}/api/v1/evidence/${encodeURIComponent(file)}`
    return this.opts.secret ? `${url}?token=${encodeURIComponent(this.opts.secret)}` : url
  }

  /**
   * Follows /api/v1/events until stop(). `base` and `token` reach the
   * backend's loopback port from a page that is not served by it (the Wails
   * window), where the secret goes in the query like the video bridge's.
   */
  events(handlers: StreamHandlers, opts: Partial<EventStreamOptions> & { base?: string; token?: string } = {}): EventStream {
    const base = (opts.base ?? this.base).replace(/\/$/, '')
    let url = `${base}/api/v1/events`
    const headers: Record<string, string> = { Accept: 'text/event-stream' }
    if (opts.token) url += `?token=${encodeURIComponent(opts.token)}`
    else if (this.opts.secret) headers.Authorization = `Bearer ${this.opts.secret}`
    return new EventStream({ url, headers, ...opts }, handlers)
  }

  /** The shift under way, its time left and who is on duty (issue 11.3). */
  async shift(): Promise<ShiftNow> {
    const path = '/api/v1/shift'
    return contract((v) => parseShiftNow(v, path), await this.request('GET', path))
  }

  async handoverDraft(): Promise<HandoverDraft> {
    const path = '/api/v1/handover/draft'
    return contract((v) => parseDraft(v, path), await this.request('GET', path))
  }

  /** Ends the duty with a note; the same id again is the same handover. */
  async handOver(req: HandoverRequest): Promise<Handover> {
    const path = '/api/v1/handover'
    return contract((v) => parseHandover(v, path), await this.request('POST', path, req))
  }

  async currentHandover(): Promise<HandoverView> {
    const path = '/api/v1/handover/current'
    return contract((v) => parseHandoverView(v, path), await this.request('GET', path))
  }

  async confirmHandover(id: string): Promise<Handover> {
    const path = `/api/v1/handover/${encodeURIComponent(id)}/receipt`
    return contract((v) => parseHandover(v, path), await this.request('POST', path))
  }

  /** A page of the relay's findings for review (issue 13): the filter's query string, then the previous page's `next`. */
  async reviewFindings(query: string, after = '', limit = 50): Promise<ReviewPage> {
    const p = new URLSearchParams(query)
    p.set('limit', String(limit))
    if (after) p.set('after', after)
    const path = `/api/v1/review/findings?${p.toString()}`
    return contract((v) => parseReviewPage(v, path), await this.request('GET', path))
  }

  async reviewFinding(id: string): Promise<ReviewDetail> {
    const path = `/api/v1/review/findings/${encodeURIComponent(id)}`
    return contract((v) => parseReviewDetail(v, path), await this.request('GET', path))
  }

  async setReviewed(id: string, reviewed: boolean): Promise<ReviewDetail> {
    const path = `/api/v1/review/findings/${encodeURIComponent(id)}/reviewed`
    return contract((v) => parseReviewDetail(v, path), await this.request('PUT', path, { reviewed }))
  }

  async commentFinding(id: string, text: string): Promise<ReviewDetail> {
    const path = `/api/v1/review/findings/${encodeURIComponent(id)}/comments`
    return contract((v) => parseReviewDetail(v, path), await this.request('POST', path, { text }))
  }

  async recordOutcome(id: string, o: OutcomeRequest): Promise<ReviewDetail> {
    const path = `/api/v1/review/findings/${encodeURIComponent(id)}/outcomes`
    return contract((v) => parseReviewDetail(v, path), await this.request('POST', path, outcomeJSON(o)))
  }

  async reviewFacets(): Promise<Facets> {
    const path = '/api/v1/review/facets'
    return contract((v) => parseFacets(v, path), await this.request('GET', path))
  }

  /** Where an <img> or the clip player loads a relay finding's evidence file (snapshot, clip, photo-N, recheck-N). */
  reviewEvidenceURL(id: string, name: string): string {
    const url = `${this.base}/api/v1/review/findings/${encodeURIComponent(id)}/evidence/${encodeURIComponent(name)}`
    return this.opts.secret ? `${url}?token=${encodeURIComponent(this.opts.secret)}` : url
  }

  /** The statistics of the review filter `query` (issue 13; relay/stats): findings by `group=`, `split=`. */
  async findingStats(query: string): Promise<FindingStats> {
    const path = `/api/v1/stats/findings?${query}`
    return contract((v) => parseFindingStats(v, path), await this.request('GET', path))
  }

  async rectificationStats(query: string): Promise<RectificationStats> {
    const path = `/api/v1/stats/rectification?${query}`
    return contract((v) => parseRectification(v, path), await this.request('GET', path))
  }

  async overdueStats(query: string): Promise<OverdueStats> {
    const path = `/api/v1/stats/overdue?${query}`
    return contract((v) => parseOverdue(v, path), await this.request('GET', path))
  }

  async repeatStats(query: string): Promise<RepeatSite[]> {
    const path = `/api/v1/stats/repeats?${query}`
    return contract((v) => parseRepeats(v, path), await this.request('GET', path))
  }

  async siteRanking(query: string): Promise<RankedSite[]> {
    const path = `/api/v1/stats/sites?${query}`
    return contract((v) => parseRanked(v, path), await this.request('GET', path))
  }

  async shiftCoverage(query: string): Promise<ShiftCoverage[]> {
    const path = `/api/v1/stats/coverage?${query}`
    return contract((v) => parseShiftCoverage(v, path), await this.request('GET', path))
  }

  /** Checks performed (户次) per site and activity; `from`/`to` RFC 3339. */
  async checkStats(query: string): Promise<CheckStats> {
    const path = `/api/v1/stats/checks?${query}`
    return contract((v) => parseCheckStats(v, path), await this.request('GET', path))
  }

  async followups(): Promise<Followup[]> {
    const path = '/api/v1/followups'
    return contract((v) => parseFollowups(v, path), await this.request('GET', path))
  }

  async follow(site: string, reason: string, filter: string): Promise<Followup> {
    const path = `/api/v1/followups/${encodeURIComponent(site)}`
    return contract((v) => parseFollowup(v, path), await this.request('PUT', path, { reason, filter }))
  }

  async unfollow(site: string): Promise<void> {
    await this.request('DELETE', `/api/v1/followups/${encodeURIComponent(site)}`)
  }

  async notices(site = '', status = ''): Promise<Notice[]> {
    const q = new URLSearchParams()
    if (site) q.set('site', site)
    if (status) q.set('status', status)
    const path = `/api/v1/notices${q.size ? `?${q}` : ''}`
    return contract((v) => parseNotices(v, path), await this.request('GET', path))
  }

  async notice(id: string): Promise<Notice> {
    const path = `/api/v1/notices/${encodeURIComponent(id)}`
    return contract((v) => parseNotice(v, path), await this.request('GET', path))
  }

  async issueNotice(req: NoticeRequest): Promise<Notice> {
    const path = '/api/v1/notices'
    return contract((v) => parseNotice(v, path), await this.request('POST', path, req))
  }

  /** A notice's PDF or a report as a file, for the browser to download. */
  async download(what: { notice: string; lang: string } | ReportQuery): Promise<Download> {
    return this.file(documentPath(what))
  }

  /** A tile's still (base64 JPEG) kept by the backend in the download folder. */
  async saveSnapshot(camera: string, jpegBase64: string): Promise<Saved> {
    const path = '/api/v1/snapshots/save'
    return contract((v) => parseSaved(v, path), await this.request('POST', path, { camera, jpeg: jpegBase64 }))
  }

  /** The same kept by the backend in the download folder (the Wails window cannot download). */
  async save(what: { notice: string; lang: string } | ReportQuery): Promise<Saved> {
    const [p, q] = documentPath(what).split('?')
    const path = `${p}/save${q ? `?${q}` : ''}`
    return contract((v) => parseSaved(v, path), await this.request('POST', path))
  }

  private async file(path: string): Promise<Download> {
    const headers: Record<string, string> = {}
    if (this.opts.secret) headers.Authorization = `Bearer ${this.opts.secret}`
    const what = `GET ${path}`
    let res: Response
    try {
      // A month's report is made at the relay: longer than a JSON call.
      res = await fetch(this.base + path, { headers, signal: AbortSignal.timeout(Math.max(this.timeoutMs, 120_000)) })
    } catch (err) {
      throw new ApiError(0, clientCodes.network, `${what}: ${errorText(err)}`, errorText(err))
    }
    if (!res.ok) throw await errorFrom(res, what)
    const disposition = res.headers.get('Content-Disposition') ?? ''
    const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition)
    const name = m?.[1] ? decodeURIComponent(m[1]) : path.split('?')[0]!.split('/').pop()!
    return { name, blob: await res.blob() }
  }

  // Returns the parsed JSON body (undefined for an empty one) or throws ApiError.
  private async request(method: string, path: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = { Accept: 'application/json' }
    if (this.opts.secret) headers.Authorization = `Bearer ${this.opts.secret}`
    if (body !== undefined) headers['Content-Type'] = 'application/json'
    const what = `${method} ${path}`
    let res: Response
    try {
      res = await fetch(this.base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      })
    } catch (err) {
      throw new ApiError(0, clientCodes.network, `${what}: ${errorText(err)}`, errorText(err))
    }
    if (!res.ok) throw await errorFrom(res, what)
    const text = await res.text()
    if (!text) {
      if (res.status === 204 || method === 'DELETE') return undefined
      throw new ApiError(res.status, clientCodes.badResponse, `${what}: empty answer, not JSON`)
    }
    try {
      return JSON.parse(text)
    } catch {
      throw new ApiError(res.status, clientCodes.badResponse, `${what}: not JSON`)
    }
  }
}

// Contract violations become ApiErrors, so callers have one error type.
function contract<T>(parse: (v: unknown) => T, v: unknown): T {
  try {
    return parse(v)
  } catch (err) {
    if (err instanceof ContractError) throw new ApiError(200, clientCodes.badResponse, err.message)
    throw err
  }
}

/** The bridge URL for one camera's stream, with the bridge secret. */
export function videoURL(boot: Pick<Bootstrap, 'bridge' | 'token'>, camera: string, stream: StreamKind): string {
  const url = new URL(boot.bridge)
  url.searchParams.set('camera', camera)
  url.searchParams.set('stream', stream)
  url.searchParams.set('token', boot.token)
  return url.toString()
}

/**
 * The multiplexed bridge URL: the bridge with its secret and no camera,
 * naming the channels the bridge is to open at the handshake.
 */
export function videoMuxURL(boot: Pick<Bootstrap, 'bridge' | 'token'>, opens: readonly MuxOpen[] = []): string {
  const url = new URL(boot.bridge)
  url.searchParams.set('token', boot.token)
  return muxAddress(url.toString(), opens)
}

// One video worker per bridge address and secret, for the page's life:
// every tile, warm stream and focus view shares its one socket.
const hosts = new Map<string, VideoHost>()

/**
 * The view's video (player/host.ts): the worker that holds the one
 * multiplexed bridge socket (player/mux.ts) and decodes every stream. The
 * only place in the view that opens the video bridge.
 */
export function videoHost(boot: Pick<Bootstrap, 'bridge' | 'token'>): VideoHost {
  const url = videoMuxURL(boot)
  let h = hosts.get(url)
  if (!h) {
    h = new VideoHost(startVideoWorker(url))
    hosts.set(url, h)
  }
  return h
}

function documentPath(what: { notice: string; lang: string } | ReportQuery): string {
  if ('notice' in what) return `/api/v1/notices/${encodeURIComponent(what.notice)}/pdf?lang=${encodeURIComponent(what.lang)}`
  return `/api/v1/reports/${encodeURIComponent(what.period)}?${reportParams(what)}`
}
