package server

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/internal/httpapi"
)

// A still of a tile (the tile bar's snapshot, key i): the picture on
// screen kept as a JPEG in the download folder, for a report or a message
// to the site. It is not a finding and goes nowhere else; a finding's
// snapshot is the flag's (issue 10.10).
func (h *handler) snapshotRoutes() {
	h.rt.Route("/api/v1/snapshots/save", httpapi.Methods{"POST": h.saveSnapshot})
}

// maxSnapshotBody bounds a still: a 1080p JPEG is well under 1 MiB, and
// base64 adds a third.
const maxSnapshotBody = 4 << 20

// SnapshotSave is a still to keep: the camera ("SITE/CAMERA") and the JPEG
// of the frame on screen, base64 (or a data: URL).
type SnapshotSave struct {
	Camera string `json:"camera"`
	JPEG   string `json:"jpeg"`
}

var cameraKey = regexp.MustCompile(`^[a-z0-9_-]{1,64}/[a-z0-9_-]{1,64}$`)

// POST /api/v1/snapshots/save {"camera","jpeg"} → 201 {"path","name","bytes"}
func (h *handler) saveSnapshot(w http.ResponseWriter, r *http.Request) error {
	var in SnapshotSave
	if err := httpapi.Decode(w, r, maxSnapshotBody, &in); err != nil {
		return err
	}
	if !cameraKey.MatchString(in.Camera) {
		return fault.Field("camera", "%q is not SITE/CAMERA", in.Camera)
	}
	data, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(in.JPEG, "data:image/jpeg;base64,"))
	if err != nil {
		return fault.Field("jpeg", "not base64: %v", err)
	}
	if !bytes.HasPrefix(data, []byte{0xff, 0xd8, 0xff}) {
		return fault.Field("jpeg", "not a JPEG (%d bytes)", len(data))
	}
	site, camera, _ := strings.Cut(in.Camera, "/")
	name := fmt.Sprintf("%s_%s_%s.jpg", site, camera, time.Now().Format("20060102-150405"))
	saved, err := h.save(relayclient.Document{Filename: name, Data: data}, name)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusCreated, saved)
	return nil
}
