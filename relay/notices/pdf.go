package notices

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/relay/audit"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/findings"
	"github.com/qianliyan/qianliyan/relay/pdfdoc"
	"github.com/qianliyan/qianliyan/relay/phrases"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// timeLayout is how the notice writes a time, in the site's zone.
const timeLayout = "2006-01-02 15:04"

// Thumbnails' largest size in pixels: sharp at the table's width.
const thumbW, thumbH = 480, 360

// PDF draws notice id as a PDF in lang (the notice's own when ""), records
// the download in the audit, and only then writes it to w: a document
// whose record failed is not handed out. It returns the notice.
func (s *Store) PDF(ctx context.Context, by auth.Principal, id, lang string, w io.Writer) (wire.Notice, error) {
	n, err := s.Get(ctx, by, id)
	if err != nil {
		return wire.Notice{}, err
	}
	if lang == "" {
		lang = n.Lang
	}
	if !bilingual.Known(lang) {
		return wire.Notice{}, fault.Field("lang", "%q is not zh-CN or en", lang)
	}
	var buf bytes.Buffer
	if err := s.draw(ctx, by, n, lang, &buf); err != nil {
		return wire.Notice{}, err
	}
	if s.Audit != nil {
		if err := s.Audit.Record(ctx, by, audit.Entry{What: audit.WhatNoticePDF, Format: "pdf", Filter: "lang=" + lang,
			Detail: n.Number + " " + n.ID}); err != nil {
			return wire.Notice{}, err
		}
	}
	if _, err := buf.WriteTo(w); err != nil {
		return wire.Notice{}, fmt.Errorf("sending notice %s's PDF: %w", id, err)
	}
	return n, nil
}

func (s *Store) draw(ctx context.Context, by auth.Principal, n wire.Notice, lang string, w io.Writer) error {
	t := func(key string) string { return phrases.In(lang, key) }
	loc := s.siteZone(ctx, n.Site)
	number := Number(lang, n.Year, n.Seq)
	site := n.SiteName.In(lang)
	d, err := pdfdoc.New(pdfdoc.Options{Lang: lang, Title: t("notice_title") + " " + number, Subject: site,
		Author: n.IssuedBy, Header: t("notice_title") + " " + number, Created: n.IssuedAt})
	if err != nil {
		return err
	}
	d.Title(t("notice_title"))
	d.Centered(number)
	d.Space(3)
	d.Fields([][2]string{
		{t("notice_to"), site},
		{t("notice_district"), n.District.In(lang)},
		{t("notice_issued_by"), n.IssuedBy},
		{t("notice_issued_at"), n.IssuedAt.In(loc).Format("2006-01-02")},
	})
	d.Space(3)
	d.Paragraph(phrases.Sprintf(lang, "notice_intro", site))
	d.Heading(t("notice_items"))
	// The deadline's column holds "2006-01-02 15:04" on one line, the
	// number's its two-character heading.
	table := d.Table(
		pdfdoc.Column{Header: t("notice_no"), Width: 0.9, Align: "C"},
		pdfdoc.Column{Header: t("notice_snapshot"), Width: 2.8},
		pdfdoc.Column{Header: t("notice_deviation"), Width: 3.6},
		pdfdoc.Column{Header: t("notice_requirement"), Width: 3.1},
		pdfdoc.Column{Header: t("notice_deadline"), Width: 2.9},
	)
	for _, it := range n.Items {
		table.Row(
			pdfdoc.Text(strconv.Itoa(it.Position)),
			pdfdoc.Cell{Image: s.thumbnail(ctx, by, it), ImageH: 30},
			pdfdoc.Text(it.Deviation.In(lang)),
			pdfdoc.Text(it.Requirement.In(lang)),
			pdfdoc.Text(it.Deadline.In(loc).Format(timeLayout)),
		)
	}
	d.Space(2)
	d.Paragraph(phrases.Sprintf(lang, "notice_time_zone", loc.String()))
	d.Paragraph(t("notice_closing"))
	d.Space(8)
	d.RightAligned(t("notice_seal"))
	d.RightAligned(t("notice_issued_by") + "：" + n.IssuedBy + "    " + n.IssuedAt.In(loc).Format("2006-01-02"))
	d.Space(6)
	d.Signature(t("notice_receipt"), 30)
	return d.Write(w)
}

// thumbnail is an item's snapshot made small, or nil when it has none or
// it cannot be read (the notice is drawn without it).
func (s *Store) thumbnail(ctx context.Context, by auth.Principal, it wire.NoticeItem) []byte {
	if it.Snapshot == "" {
		return nil
	}
	fh, _, err := s.Findings.Open(ctx, by, it.Finding, wire.EvidenceSnapshot)
	if err != nil {
		s.Log.Warn().Err(err).Str("finding", it.Finding).Msg("a notice's snapshot not read: drawn without it")
		return nil
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, findings.MaxSnapshotBytes+1))
	if err != nil {
		s.Log.Warn().Err(err).Str("finding", it.Finding).Msg("a notice's snapshot not read: drawn without it")
		return nil
	}
	thumb, err := pdfdoc.Thumbnail(b, thumbW, thumbH)
	if err != nil {
		s.Log.Warn().Err(err).Str("finding", it.Finding).Msg("a notice's snapshot not drawn")
		return nil
	}
	return thumb
}

// siteZone is the site's time zone, the duty room's when unknown.
func (s *Store) siteZone(ctx context.Context, site string) *time.Location {
	sites, err := s.siteMap(ctx)
	if err != nil {
		return s.Zone
	}
	if st, ok := sites[site]; ok {
		if loc, err := time.LoadLocation(st.TimeZone); err == nil {
			return loc
		}
	}
	return s.Zone
}
