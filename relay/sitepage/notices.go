package sitepage

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/findings"
	"github.com/qianliyan/qianliyan/relay/notices"
	"github.com/qianliyan/qianliyan/relay/phrases"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// Notices are the 监督意见书 the page shows its sites (relay/notices.Store).
// A notice is one document whose items the manager answers one by one,
// each through its finding's own page: acknowledge, then report the
// rectification with a note and photos.
type Notices interface {
	List(ctx context.Context, by auth.Principal, f notices.Filter) ([]wire.Notice, error)
	Get(ctx context.Context, by auth.Principal, id string) (wire.Notice, error)
	OfFinding(ctx context.Context, by auth.Principal, findingID string) (wire.Notice, bool, error)
	PDF(ctx context.Context, by auth.Principal, id, lang string, w io.Writer) (wire.Notice, error)
}

func (p *page) mountNotices(mux *http.ServeMux) {
	mux.HandleFunc("GET /site/notices/{id}", p.notice)
	mux.HandleFunc("GET /site/notices/{id}/pdf", p.noticePDF)
}

// noticeRow is a notice as the list shows it.
type noticeRow struct {
	ID, Number, SiteName, IssuedAt, Status, StatusLabel, Progress string
}

// noticeDoc is a notice as its page shows it.
type noticeDoc struct {
	noticeRow
	IssuedBy string
	Items    []noticeItem
}

// noticeItem is one item: its finding's state, and where to answer it.
type noticeItem struct {
	Position                int
	Finding                 string
	Title, Requirement      string
	DeadlineAt, StatusLabel string
	Status                  wire.Status
	Reported, Verified      bool
	Late                    bool
	// Awaiting: the site still has this item to do.
	Awaiting bool
}

// noticeLink is what a finding's page says of the notice it is in.
type noticeLink struct {
	ID, Text, Back string
}

func (p *page) noticeRow(lang string, n wire.Notice, zone *time.Location) noticeRow {
	return noticeRow{ID: n.ID, Number: notices.Number(lang, n.Year, n.Seq), SiteName: n.SiteName.In(lang),
		IssuedAt: n.IssuedAt.In(zone).Format(timeLayout), Status: n.Status, StatusLabel: phrases.In(lang, "notice_"+n.Status),
		Progress: phrases.Sprintf(lang, "notice_progress", n.Reported, n.Total, n.Verified)}
}

// noticeRows are the notices the list shows: the open ones, and those
// closed as recently as closed findings stay listed.
func (p *page) noticeRows(ctx context.Context, lang string, by auth.Principal, n *names) []noticeRow {
	if p.Notices == nil {
		return nil
	}
	list, err := p.Notices.List(ctx, by, notices.Filter{Limit: notices.MaxList})
	if err != nil {
		p.Log.Warn().Err(err).Msg("listing notices for the site page")
		return nil
	}
	var out []noticeRow
	since := p.Now().Add(-closedShown)
	for _, nt := range list {
		if nt.ClosedAt != nil && nt.ClosedAt.Before(since) {
			continue
		}
		out = append(out, p.noticeRow(lang, nt, n.zone(nt.Site)))
	}
	return out
}

// noticeOf is the link from a finding's page to the notice it is in.
func (p *page) noticeOf(ctx context.Context, lang string, by auth.Principal, finding string) *noticeLink {
	if p.Notices == nil {
		return nil
	}
	n, ok, err := p.Notices.OfFinding(ctx, by, finding)
	if err != nil {
		p.Log.Warn().Err(err).Str("finding", finding).Msg("reading a finding's notice for the site page")
	}
	if !ok {
		return nil
	}
	pos := 0
	for _, it := range n.Items {
		if it.Finding == finding {
			pos = it.Position
		}
	}
	return &noticeLink{ID: n.ID, Text: phrases.Sprintf(lang, "notice_of", notices.Number(lang, n.Year, n.Seq), pos), Back: phrases.In(lang, "notice_back")}
}

func (p *page) notice(w http.ResponseWriter, r *http.Request) {
	by, token, ok := p.session(w, r)
	if !ok {
		return
	}
	n, err := p.Notices.Get(r.Context(), by, r.PathValue("id"))
	if fault.KindOf(err) == fault.NotFound {
		p.message(w, r, http.StatusNotFound, "notice_missing")
		return
	}
	if err != nil {
		p.Log.Error().Err(err).Msg("reading a notice for the site page")
		p.message(w, r, http.StatusInternalServerError, "failed")
		return
	}
	lang := language(r)
	zone := p.names(r.Context()).zone(n.Site)
	doc := noticeDoc{noticeRow: p.noticeRow(lang, n, zone), IssuedBy: n.IssuedBy}
	now := p.Now()
	for _, it := range n.Items {
		awaiting := it.Status == findings.StatusOpen || it.Status == findings.StatusAcknowledged || it.Status == findings.StatusReopened
		doc.Items = append(doc.Items, noticeItem{Position: it.Position, Finding: it.Finding, Title: it.Deviation.In(lang),
			Requirement: it.Requirement.In(lang), DeadlineAt: it.Deadline.In(zone).Format(timeLayout),
			StatusLabel: phrases.In(lang, string(it.Status)), Status: it.Status, Reported: it.Reported, Verified: it.Verified,
			Awaiting: awaiting, Late: awaiting && it.Deadline.Before(now)})
	}
	p.render(w, r, http.StatusOK, "notice", view{Lang: lang, User: &by, CSRF: p.csrf(token), Data: doc})
}

// noticePDF sends the notice as a PDF in the page's language; the relay
// records the download.
func (p *page) noticePDF(w http.ResponseWriter, r *http.Request) {
	by, _, ok := p.session(w, r)
	if !ok {
		return
	}
	var buf bytes.Buffer
	n, err := p.Notices.PDF(r.Context(), by, r.PathValue("id"), language(r), &buf)
	if fault.KindOf(err) == fault.NotFound {
		p.message(w, r, http.StatusNotFound, "notice_missing")
		return
	}
	if err != nil {
		p.Log.Error().Err(err).Msg("drawing a notice's PDF for the site page")
		p.message(w, r, http.StatusInternalServerError, "failed")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Content-Disposition", `attachment; filename="`+notices.Number("en", n.Year, n.Seq)+`.pdf"`)
	h.Set("Cache-Control", "no-store")
	buf.WriteTo(w)
}

// noticePath is a notice page's own address, where the language switch
// returns; "" for any other path.
func noticePath(path string) string {
	id, ok := strings.CutPrefix(path, "/site/notices/")
	if !ok || findings.CheckID(id) != nil {
		return ""
	}
	return path
}
