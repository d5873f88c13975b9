package api

import (
	"context"
	"errors"
	"math"
	"net/http"
	"time"

	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/internal/httpapi"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/health"
	"github.com/qianliyan/qianliyan/relay/hub"
	"github.com/qianliyan/qianliyan/relay/store"
)

// Camera is one entry of the camera list (docs/PROTOCOLS.md).
type Camera struct {
	Site     string         `json:"site"`
	ID       string         `json:"id"`
	Zone     string         `json:"zone"`
	Name     bilingual.Text `json:"name"`
	SiteName bilingual.Text `json:"site_name"`
	District bilingual.Text `json:"district"`
	TimeZone string         `json:"time_zone"`
	// Online reports whether the camera can be watched: one of its
	// streams has a source, frames arriving (online) or not (stalled).
	Online bool `json:"online"`
	// State is the best of its streams' states, and Since when it began.
	State   hub.Status              `json:"state"`
	Since   string                  `json:"since"`
	Streams map[string]StreamHealth `json:"streams"`
}

// StreamHealth is the health of one of a camera's streams. An offline
// stream has its state and since only (and viewers, while some wait for
// it to return).
type StreamHealth struct {
	State              hub.Status `json:"state"`
	Since              string     `json:"since"`
	Width              int        `json:"width,omitempty"`
	Height             int        `json:"height,omitempty"`
	FPS                *float64   `json:"fps,omitempty"`
	BitrateKbps        *int       `json:"bitrate_kbps,omitempty"`
	KeyframeIntervalMS *int64     `json:"keyframe_interval_ms,omitempty"`
	LastFrameAgeMS     *int64     `json:"last_frame_age_ms,omitempty"`
	Viewers            *int       `json:"viewers,omitempty"`
}

func ptr[T any](v T) *T { return &v }

func (s *server) formatTime(t time.Time) string {
	if t.IsZero() {
		t = s.Started
	}
	return t.UTC().Format(time.RFC3339)
}

// streamHealth describes one stream; st is the zero State (offline) for
// a stream the hub has never seen.
func (s *server) streamHealth(st hub.State, now time.Time) StreamHealth {
	if st.Status == "" {
		st.Status = hub.StatusOffline
	}
	h := StreamHealth{State: st.Status, Since: s.formatTime(st.StatusSince)}
	if !st.Online {
		if st.Readers > 0 {
			h.Viewers = ptr(st.Readers)
		}
		return h
	}
	h.Width, h.Height = st.Info.Width, st.Info.Height
	h.FPS = ptr(math.Round(st.FPS*10) / 10)
	h.BitrateKbps = ptr(int(math.Round(st.Bitrate / 1000)))
	h.Viewers = ptr(st.Readers)
	if st.KeyframeInterval > 0 {
		h.KeyframeIntervalMS = ptr(st.KeyframeInterval.Milliseconds())
	}
	// The last frame counts if the current source sent it.
	if !st.LastFrame.IsZero() && !st.LastFrame.Before(st.Since) {
		h.LastFrameAgeMS = ptr(max(now.Sub(st.LastFrame), 0).Milliseconds())
	}
	return h
}

// describe returns a camera's list entry with its health now.
func (s *server) describe(c store.Camera, site store.Site) Camera {
	now := s.Now()
	key := hub.Key{Site: c.Site, Camera: c.ID, Stream: hub.StreamMain}
	main, _ := s.Streams.State(key)
	sub, _ := s.Streams.State(key.Other())
	state, since := health.Of(main, sub)
	return Camera{
		Site: c.Site, ID: c.ID, Zone: c.Zone, Name: c.Name,
		SiteName: site.Name, District: site.District, TimeZone: site.TimeZone,
		Online: state != hub.StatusOffline, State: state, Since: s.formatTime(since),
		Streams: map[string]StreamHealth{
			hub.StreamMain: s.streamHealth(main, now),
			hub.StreamSub:  s.streamHealth(sub, now),
		},
	}
}

// cameraList returns the cameras p may watch, in the configured order.
func (s *server) cameraList(ctx context.Context, p auth.Principal) ([]Camera, error) {
	sites, err := s.Store.Sites(ctx)
	if err != nil {
		return nil, err
	}
	bySite := make(map[string]store.Site, len(sites))
	for _, st := range sites {
		bySite[st.ID] = st
	}
	cams, err := s.Store.Cameras(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Camera, 0, len(cams))
	for _, c := range cams {
		if p.CanView(c.Site) {
			out = append(out, s.describe(c, bySite[c.Site]))
		}
	}
	return out, nil
}

// cameraEntry returns one camera's entry; ok is false if it does not exist.
func (s *server) cameraEntry(ctx context.Context, siteID, id string) (Camera, bool, error) {
	c, err := s.Store.Camera(ctx, siteID, id)
	if errors.Is(err, store.ErrNotFound) {
		return Camera{}, false, nil // removed since its state changed
	}
	if err != nil {
		return Camera{}, false, err
	}
	sites, err := s.Store.Sites(ctx)
	if err != nil {
		return Camera{}, false, err
	}
	for _, site := range sites {
		if site.ID == siteID {
			return s.describe(c, site), true, nil
		}
	}
	return Camera{}, false, nil
}

func (s *server) cameras(w http.ResponseWriter, r *http.Request) error {
	p, _, err := s.principal(r)
	if err != nil {
		return err
	}
	list, err := s.cameraList(r.Context(), p)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"cameras": list})
	return nil
}
