package server

import (
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/internal/httpapi"
)

// reportsRoutes serve the relay's reports: GET gives the file (or the JSON
// figures, format=json), POST …/save keeps it in the download folder for
// the Wails window (see noticesRoutes).
func (h *handler) reportsRoutes() {
	rt := h.rt
	rt.Route("/api/v1/reports/{period}", httpapi.Methods{"GET": h.report})
	rt.Route("/api/v1/reports/{period}/save", httpapi.Methods{"POST": h.saveReport})
}

func reportQuery(r *http.Request) relayclient.ReportQuery {
	q := r.URL.Query()
	return relayclient.ReportQuery{Period: r.PathValue("period"), Date: q.Get("date"), Shift: q.Get("shift"),
		Lang: q.Get("lang"), Format: q.Get("format")}
}

func reportName(q relayclient.ReportQuery) string {
	format := q.Format
	if format == "" {
		format = "json"
	}
	return fmt.Sprintf("report-%s-%s.%s", q.Period, q.Date, format)
}

// GET /api/v1/reports/{period}?date=&shift=&lang=&format=
func (h *handler) report(w http.ResponseWriter, r *http.Request) error {
	c, err := h.relay(w)
	if err != nil {
		return err
	}
	q := reportQuery(r)
	d, err := c.Report(r.Context(), q)
	if err := relayAnswer(w, err); err != nil {
		return err
	}
	sendDocument(w, d, reportName(q))
	return nil
}

// POST /api/v1/reports/{period}/save?date=&shift=&lang=&format= → {"path","bytes"}
func (h *handler) saveReport(w http.ResponseWriter, r *http.Request) error {
	c, err := h.relay(w)
	if err != nil {
		return err
	}
	q := reportQuery(r)
	d, err := c.Report(r.Context(), q)
	if err := relayAnswer(w, err); err != nil {
		return err
	}
	s, err := h.save(d, reportName(q))
	return reply(w, http.StatusOK, s, err)
}

// sendDocument answers with a file of the relay as an attachment, named as
// the relay named it or else fallback.
func sendDocument(w http.ResponseWriter, d relayclient.Document, fallback string) {
	name := safeName(d.Filename, fallback)
	ct := d.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(d.Data)))
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(d.Data)
}

// Saved says where the backend kept a file.
type Saved struct {
	Path  string `json:"path"`
	Name  string `json:"name"`
	Bytes int    `json:"bytes"`
}

// safeName is the relay's name for a file as a plain file name (no
// directory, nothing hidden), or fallback.
func safeName(name, fallback string) string {
	name = filepath.Base(strings.ReplaceAll(name, "\\", "/"))
	if name == "." || name == "/" || name == "" || strings.HasPrefix(name, ".") {
		name = filepath.Base(fallback)
	}
	return name
}

// downloadDir is where saved files go: Options.Downloads, else the XDG
// download folder, else ~/Downloads.
func (h *handler) downloadDir() (string, error) {
	if h.opts.Downloads != "" {
		return h.opts.Downloads, nil
	}
	if d := os.Getenv("XDG_DOWNLOAD_DIR"); filepath.IsAbs(d) {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the download folder: %w", err)
	}
	return filepath.Join(home, "Downloads"), nil
}

// save keeps d in the download folder under its name, never over another
// file: a second copy is "name (2).ext".
func (h *handler) save(d relayclient.Document, fallback string) (Saved, error) {
	dir, err := h.downloadDir()
	if err != nil {
		return Saved{}, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Saved{}, saveFault(fmt.Errorf("making the download folder %s: %w", dir, err))
	}
	name := safeName(d.Filename, fallback)
	ext := filepath.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	for i := 1; i < 1000; i++ {
		n := name
		if i > 1 {
			n = fmt.Sprintf("%s (%d)%s", stem, i, ext)
		}
		p := filepath.Join(dir, n)
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return Saved{}, saveFault(fmt.Errorf("saving %s: %w", p, err))
		}
		_, werr := f.Write(d.Data)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			os.Remove(p)
			return Saved{}, saveFault(fmt.Errorf("saving %s: %w", p, werr))
		}
		return Saved{Path: p, Name: n, Bytes: len(d.Data)}, nil
	}
	return Saved{}, fault.New(fault.Conflict, "save_failed", "%s: a thousand copies are there already", filepath.Join(dir, name))
}

// saveFault: a full disk is the officer's to clear (507); anything else is
// the console's (500, detail in the log).
func saveFault(err error) error {
	if errors.Is(err, syscall.ENOSPC) {
		return fault.New(fault.InsufficientStorage, "disk_full", "%w", err)
	}
	return err
}
