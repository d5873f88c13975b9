package relayclient

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
)

// maxDocument bounds a report or notice fetched from the relay: a month's
// XLSX of a hundred sites is a few hundred kB, a notice's PDF with its CJK
// font a few MB.
const maxDocument = 64 << 20

// Document is a file the relay made (a report, a notice's PDF) as it sent
// it: its type, the name it suggests and its bytes.
type Document struct {
	ContentType string
	Filename    string
	Data        []byte
}

// ReportQuery selects a report: period daily, shift, weekly or monthly; the
// day it covers (the ISO week or month containing it); the shift for a
// shift report; the language and format (json, xlsx, pdf, csv).
type ReportQuery struct {
	Period, Date, Shift, Lang, Format string
}

func (q ReportQuery) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"date": q.Date, "shift": q.Shift, "lang": q.Lang, "format": q.Format} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// Report fetches a report (GET /api/v1/reports/{period}) in the format
// asked, JSON included, as the relay's document; the relay audits it.
func (c *Client) Report(ctx context.Context, q ReportQuery) (Document, error) {
	d, err := c.document(ctx, "/api/v1/reports/"+url.PathEscape(q.Period), q.values())
	if err != nil {
		return Document{}, fmt.Errorf("fetching the %s report of %s as %s: %w", q.Period, q.Date, q.Format, err)
	}
	return d, nil
}

// document GETs a file of the relay whole, bounded by maxDocument.
func (c *Client) document(ctx context.Context, path string, v url.Values) (Document, error) {
	if len(v) > 0 {
		path += "?" + v.Encode()
	}
	ctx, cancel := context.WithTimeout(ctx, findingsTimeout)
	defer cancel()
	var d Document
	err := c.getFile(ctx, path, func(resp *http.Response) error {
		data, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument+1))
		if err != nil {
			return fmt.Errorf("reading %s: %w", path, err)
		}
		if len(data) > maxDocument {
			return fmt.Errorf("%s is over %d bytes", path, maxDocument)
		}
		d = Document{ContentType: resp.Header.Get("Content-Type"), Data: data}
		if _, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition")); err == nil {
			d.Filename = params["filename"]
		}
		return nil
	})
	return d, err
}
