package main

import (
	"bytes"
	"fmt"
	"time"

	"github.com/qianliyan/qianliyan/internal/avc"
)

// epoch is the one clock of a bench run: publishers stamp units with the
// time since it, viewers subtract the stamp from their own time since it.
var epoch = time.Now()

func since() time.Duration { return time.Since(epoch) }

// stampUUID opens the SEI message (user data unregistered, H.264 D.1.6)
// that carries a unit's stamp; it has no zero bytes, and nor has the
// decimal text after it, so the NAL unit needs no emulation prevention.
var stampUUID = []byte("qianliyan-bench!")

const (
	naluSEI                 = 6
	seiUserDataUnregistered = 5
)

// stamp returns au with an SEI NAL unit saying which camera sent it, its
// sequence number and when, placed before the first slice as H.264 wants
// it. The unit's own NAL units are shared, not copied.
func stamp(au avc.AccessUnit, camera int, seq int64, sent time.Duration) avc.AccessUnit {
	text := fmt.Sprintf("%d %d %d", camera, seq, int64(sent))
	payload := append(append([]byte{}, stampUUID...), text...)
	sei := make([]byte, 0, len(payload)+4)
	sei = append(sei, naluSEI, seiUserDataUnregistered, byte(len(payload))) // < 255 bytes
	sei = append(sei, payload...)
	sei = append(sei, 0x80) // rbsp trailing bits
	nalus := make([][]byte, 0, len(au.NALUs)+1)
	placed := false
	for _, n := range au.NALUs {
		if t := n[0] & 0x1f; !placed && t >= 1 && t <= 5 {
			nalus = append(nalus, sei)
			placed = true
		}
		nalus = append(nalus, n)
	}
	if !placed {
		nalus = append(nalus, sei)
	}
	au.NALUs = nalus
	return au
}

// readStamp finds the stamp in a received unit.
func readStamp(au avc.AccessUnit) (camera int, seq int64, sent time.Duration, ok bool) {
	for _, n := range au.NALUs {
		if len(n) < 3+len(stampUUID) || n[0]&0x1f != naluSEI || n[1] != seiUserDataUnregistered {
			continue
		}
		size := int(n[2])
		if len(n) < 3+size || !bytes.Equal(n[3:3+len(stampUUID)], stampUUID) {
			continue
		}
		var ns int64
		if _, err := fmt.Sscanf(string(n[3+len(stampUUID):3+size]), "%d %d %d", &camera, &seq, &ns); err != nil {
			continue
		}
		return camera, seq, time.Duration(ns), true
	}
	return 0, 0, 0, false
}
