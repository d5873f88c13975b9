// Package avc holds the H.264 access unit that flows through every part of
// Qianliyan (site simulator → relay hub → console → view) and the few bitstream
// facts the product needs about it. It knows nothing of RTP, WebRTC or HTTP.
package avc

import (
	"fmt"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
)

// AccessUnit is one coded picture: its NAL units without start codes.
type AccessUnit struct {
	NALUs [][]byte
	// PTS is the presentation time relative to the start of the stream.
	PTS time.Duration
	// Keyframe is true when the unit holds an IDR slice, so a decoder can start here.
	Keyframe bool
}

// NewAccessUnit builds an access unit and classifies it.
func NewAccessUnit(nalus [][]byte, pts time.Duration) AccessUnit {
	return AccessUnit{NALUs: nalus, PTS: pts, Keyframe: h264.IsRandomAccess(nalus)}
}

// Size is the payload size in bytes, without start codes.
func (au AccessUnit) Size() int {
	n := 0
	for _, nalu := range au.NALUs {
		n += len(nalu)
	}
	return n
}

// ParamSets returns the SPS and PPS carried in the unit, if any.
func (au AccessUnit) ParamSets() (sps, pps []byte) {
	for _, nalu := range au.NALUs {
		if len(nalu) == 0 {
			continue
		}
		switch h264.NALUType(nalu[0] & 0x1f) {
		case h264.NALUTypeSPS:
			sps = nalu
		case h264.NALUTypePPS:
			pps = nalu
		}
	}
	return sps, pps
}

// WithParamSets returns the unit with the given SPS and PPS in front of it when
// it lacks them. Cameras that send parameter sets only out of band (RTSP SDP)
// or only once would otherwise give a late joiner an undecodable keyframe.
func (au AccessUnit) WithParamSets(sps, pps []byte) AccessUnit {
	haveSPS, havePPS := au.ParamSets()
	if (haveSPS != nil && havePPS != nil) || sps == nil || pps == nil {
		return au
	}
	nalus := make([][]byte, 0, len(au.NALUs)+2)
	nalus = append(nalus, sps, pps)
	for _, nalu := range au.NALUs {
		switch h264.NALUType(nalu[0] & 0x1f) {
		case h264.NALUTypeSPS, h264.NALUTypePPS:
			continue
		}
		nalus = append(nalus, nalu)
	}
	au.NALUs = nalus
	return au
}

// AnnexB returns the unit as an Annex-B byte stream (start code before each NAL
// unit), the form WebCodecs accepts when no decoder description is given.
func (au AccessUnit) AnnexB() ([]byte, error) {
	b, err := h264.AnnexB(au.NALUs).Marshal()
	if err != nil {
		return nil, fmt.Errorf("marshalling access unit as Annex-B: %w", err)
	}
	return b, nil
}

// StreamInfo describes a stream as its SPS declares it.
type StreamInfo struct {
	Codec  string `json:"codec"` // RFC 6381 codec string, e.g. "avc1.42e01f"
	Width  int    `json:"width"`
	Height int    `json:"height"`
}

// ParseSPS reads the codec string and picture size from an SPS NAL unit.
func ParseSPS(sps []byte) (StreamInfo, error) {
	var s h264.SPS
	if err := s.Unmarshal(sps); err != nil {
		return StreamInfo{}, fmt.Errorf("parsing SPS: %w", err)
	}
	if len(sps) < 4 {
		return StreamInfo{}, fmt.Errorf("parsing SPS: %d bytes is too short", len(sps))
	}
	return StreamInfo{
		// Bytes 1..3 of the SPS are profile_idc, the constraint flags and level_idc.
		Codec:  fmt.Sprintf("avc1.%02x%02x%02x", sps[1], sps[2], sps[3]),
		Width:  s.Width(),
		Height: s.Height(),
	}, nil
}

// SplitAnnexB splits an Annex-B byte stream into NAL units.
func SplitAnnexB(b []byte) ([][]byte, error) {
	var a h264.AnnexB
	if err := a.Unmarshal(b); err != nil {
		return nil, fmt.Errorf("splitting Annex-B stream: %w", err)
	}
	return a, nil
}
