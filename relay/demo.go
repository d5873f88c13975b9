package relay

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/qianliyan/qianliyan/internal/demosite"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/store"
)

// The demo catalogue: three sites of four cameras, a duty officer, and one
// publish token for every site (docs/PROTOCOLS.md).
const (
	demoSites, demoCameras = 3, 4
	demoUser               = "duty"
	demoTokenLabel         = "demo"
)

func putDemoSites(ctx context.Context, st *store.Store) error {
	sites, err := demosite.Sites(demoSites, demoCameras)
	if err != nil {
		return err
	}
	for _, s := range sites {
		cams := make([]store.Camera, len(s.Cameras))
		for i, c := range s.Cameras {
			cams[i] = store.Camera{Site: s.ID, ID: c.ID, Zone: c.Zone, Name: store.Name(c.Name)}
		}
		site := store.Site{ID: s.ID, District: store.Name(s.District), Name: store.Name(s.Name), TimeZone: s.TimeZone}
		if err := st.PutSite(ctx, site, cams); err != nil {
			return err
		}
	}
	return nil
}

// demoCredentials returns the demo user's password and the publish token.
// The database keeps only their hashes, so a later run reuses the ones in
// the credentials file when they still match, and makes new ones otherwise
// (first run, file deleted, password changed).
func demoCredentials(ctx context.Context, st *store.Store, dataDir string) (DemoCredentials, error) {
	sites, err := demosite.Sites(demoSites, demoCameras)
	if err != nil {
		return DemoCredentials{}, err
	}
	creds, err := readDemoCredentials(filepath.Join(dataDir, DemoCredentialsFile))
	if err != nil {
		return DemoCredentials{}, err
	}
	u, err := st.User(ctx, demoUser)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return DemoCredentials{}, err
	}
	if creds.Password == "" || u.Disabled || u.Role != string(auth.RoleDuty) || auth.CheckPassword(u.PasswordHash, creds.Password) != nil {
		if creds.Password, err = auth.NewPassword(); err != nil {
			return DemoCredentials{}, err
		}
		hash, err := auth.HashPassword(creds.Password)
		if err != nil {
			return DemoCredentials{}, err
		}
		if err := st.PutUser(ctx, store.User{Name: demoUser, Role: string(auth.RoleDuty), PasswordHash: hash}); err != nil {
			return DemoCredentials{}, err
		}
	}
	creds.User = demoUser
	if creds.PublishToken == "" {
		if creds.PublishToken, _, err = auth.NewPublishToken(); err != nil {
			return DemoCredentials{}, err
		}
	}
	// Setting the token again is idempotent, and repairs sites added since.
	hash := auth.HashPublishToken(creds.PublishToken)
	for _, s := range sites {
		if err := st.SetPublishTokens(ctx, s.ID, demoTokenLabel, [][]byte{hash}); err != nil {
			return DemoCredentials{}, err
		}
	}
	return creds, nil
}

// readDemoCredentials reads the credentials file a previous run wrote; a
// missing file gives zero credentials.
func readDemoCredentials(path string) (DemoCredentials, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return DemoCredentials{}, nil
	}
	if err != nil {
		return DemoCredentials{}, fmt.Errorf("reading demo credentials: %w", err)
	}
	defer f.Close()
	var c DemoCredentials
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		switch k {
		case "QLY_USER":
			c.User = v
		case "QLY_PASSWORD":
			c.Password = v
		case "QLY_PUBLISH_TOKEN":
			c.PublishToken = v
		}
	}
	if err := sc.Err(); err != nil {
		return DemoCredentials{}, fmt.Errorf("reading demo credentials: %w", err)
	}
	return c, nil
}

// writeDemoCredentials writes the file scripts source (docs/PROTOCOLS.md),
// readable by the owner only, replacing any previous one whole.
func writeDemoCredentials(path, url string, c DemoCredentials) error {
	text := fmt.Sprintf("QLY_RELAY=%s\nQLY_USER=%s\nQLY_PASSWORD=%s\nQLY_PUBLISH_TOKEN=%s\n", url, c.User, c.Password, c.PublishToken)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
		return fmt.Errorf("writing demo credentials: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing demo credentials: %w", err)
	}
	return nil
}
