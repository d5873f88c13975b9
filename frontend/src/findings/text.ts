// A finding in words, the same in the list and in the dialog: its status,
// its deadline against the clock, how long it has waited for the re-check,
// where it stands with the relay.
import type { Finding } from '../api'
import { forwardMessage } from '../api/findings'
import { currentLocale, i18n, localName, type Locale } from '../i18n'
import { due, spanText, waitingSince } from './recheck'

const statuses = new Set(['open', 'acknowledged', 'rectified', 'verified', 'reopened', 'withdrawn'])
const severityNames = new Set(['critical', 'major', 'minor'])

/**
 * What the finding is about, in the reader's language: the catalogue's
 * words when it came from one, else the text as the officer typed it.
 */
export function findingTitle(f: Pick<Finding, 'deviationText' | 'deviationTitle'>, locale: Locale = currentLocale()): string {
  return (f.deviationTitle && localName(f.deviationTitle, locale)) || f.deviationText
}

/** The status in words; one the view does not know, as the backend spells it. */
export function statusText(s: string): string {
  return statuses.has(s) ? i18n.global.t(`findings.status.${s}`) : s
}

export function severityText(s: string): string {
  return severityNames.has(s) ? i18n.global.t(`severity.${s}`) : s
}

/** "23 h 59 min left" or "2 h overdue"; '' without a deadline or once closed. */
export function dueText(f: Finding, now: Date): string {
  const d = due(f, now)
  return d.kind === 'left' || d.kind === 'overdue' ? i18n.global.t(`recheck.${d.kind}`, { span: spanText(d.ms, currentLocale()) }) : ''
}

/** How long a rectified finding has waited for the officer. */
export function waitedText(f: Finding, now: Date): string {
  const since = waitingSince(f)
  return since ? i18n.global.t('recheck.waited', { span: spanText(now.getTime() - since.getTime(), currentLocale()) }) : ''
}

/** Its forward state: a sentence for the dialog, or the list's short badge. */
export function forwardText(f: Finding, form: 'forward' | 'forwardBadge'): string {
  const m = forwardMessage(f.forward)
  return m ? i18n.global.t(`findings.${form}.${m.key}`, m.params) : ''
}
