package console

import "github.com/qianliyan/qianliyan/console/server"

// shifts is the signed-in relay's client for the view's shift and
// handover calls (server.Shifts), or why there is none.
func (b *Backend) shifts() (server.Shifts, error) {
	s, err := b.signedIn()
	if err != nil {
		return nil, err
	}
	return s.client, nil
}
