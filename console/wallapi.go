package console

import (
	"context"
	"errors"

	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/console/wall"
	"github.com/qianliyan/qianliyan/internal/fault"
)

// The signed-in user's layouts and tours, kept in the console's store by
// the relay user's name.

// wallUser returns the store and the signed-in user's name.
func (b *Backend) wallUser() (*store.Store, string, error) {
	s, err := b.signedIn()
	if err != nil {
		return nil, "", err
	}
	b.mu.Lock()
	st := b.store
	b.mu.Unlock()
	return st, s.user.Name, nil
}

// Layouts returns the user's layouts by name.
func (b *Backend) Layouts(ctx context.Context) ([]wall.Layout, error) {
	st, user, err := b.wallUser()
	if err != nil {
		return nil, err
	}
	return st.Layouts(ctx, user)
}

// PutLayout saves one of the user's layouts.
func (b *Backend) PutLayout(ctx context.Context, l wall.Layout) (wall.Layout, error) {
	st, user, err := b.wallUser()
	if err != nil {
		return wall.Layout{}, err
	}
	if l.Tiles == nil {
		l.Tiles = []wall.Tile{}
	}
	if err := st.PutLayout(ctx, user, l); err != nil {
		return wall.Layout{}, err
	}
	return l, nil
}

// DeleteLayout deletes one of the user's layouts; one a tour shows stays.
func (b *Backend) DeleteLayout(ctx context.Context, name string) error {
	st, user, err := b.wallUser()
	if err != nil {
		return err
	}
	err = st.DeleteLayout(ctx, user, name)
	var inUse *store.LayoutInUseError
	switch {
	case errors.Is(err, store.ErrNoLayout):
		return fault.New(fault.NotFound, "not_found", "there is no layout %q", name)
	case errors.As(err, &inUse):
		return fault.New(fault.Conflict, "layout_in_use", "%w", err)
	}
	return err
}

// Tours returns the built-in tour, unless the user saved or deleted one of
// its name, then the user's tours by name.
func (b *Backend) Tours(ctx context.Context) ([]wall.Tour, error) {
	st, user, err := b.wallUser()
	if err != nil {
		return nil, err
	}
	saved, err := st.Tours(ctx, user)
	if err != nil {
		return nil, err
	}
	for i := range saved {
		saved[i].Title = wall.BuiltInTitle(saved[i].Name)
	}
	for _, t := range saved {
		if t.Name == wall.DefaultTourName {
			return saved, nil
		}
	}
	dismissed, err := st.TourDismissed(ctx, user, wall.DefaultTourName)
	if err != nil || dismissed {
		return saved, err
	}
	cams := b.knownCameras(ctx)
	if def, ok := wall.DefaultTour(cams); ok {
		saved = append([]wall.Tour{def}, saved...)
	}
	return saved, nil
}

// knownCameras is the session's last camera list, fetched if there is none
// yet; without the relay, none.
func (b *Backend) knownCameras(ctx context.Context) []relayclient.Camera {
	s, err := b.signedIn()
	if err != nil {
		return nil
	}
	if cams := s.cameras(); cams != nil {
		return cams
	}
	cams, err := b.Cameras(ctx)
	if err != nil {
		b.log.Warn().Err(err).Msg("no camera list for the built-in tour")
	}
	return cams
}

// PutTour saves one of the user's tours.
func (b *Backend) PutTour(ctx context.Context, t wall.Tour) (wall.Tour, error) {
	st, user, err := b.wallUser()
	if err != nil {
		return wall.Tour{}, err
	}
	if err := st.PutTour(ctx, user, t); err != nil {
		return wall.Tour{}, err
	}
	return t, nil
}

// DeleteTour deletes one of the user's tours; deleting the built-in one,
// saved or not, keeps it away.
func (b *Backend) DeleteTour(ctx context.Context, name string) error {
	st, user, err := b.wallUser()
	if err != nil {
		return err
	}
	err = st.DeleteTour(ctx, user, name, name == wall.DefaultTourName)
	if errors.Is(err, store.ErrNoTour) {
		return fault.New(fault.NotFound, "not_found", "there is no tour %q", name)
	}
	return err
}
