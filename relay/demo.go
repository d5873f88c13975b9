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

// The demo catalogue: three sites of four cameras, a duty officer, a site
// manager for each site (manager-01 for site-01, …, sharing one password),
// and one publish token for every site (docs/PROTOCOLS.md).
const (
	demoSites, demoCameras = 3, 4
	demoUser               = "duty"
	demoManagerPrefix      = "manager-"
	demoTokenLabel         = "demo"
)

// DemoManager is the demo site manager's name for a demo site.
func DemoManager(site string) string {
	return demoManagerPrefix + strings.TrimPrefix(site, "site-")
}

// putDemoSites creates the demo sites that do not exist yet, with their
// cameras. A demo site that exists is left as it is: its cameras may be an
// admin's since (relay camera add), and the demo must not take them away.
func putDemoSites(ctx context.Context, st *store.Store) error {
	sites, err := demosite.Sites(demoSites, demoCameras)
	if err != nil {
		return err
	}
	existing, err := st.Sites(ctx)
	if err != nil {
		return err
	}
	made := make(map[string]bool, len(existing))
	for _, s := range existing {
		made[s.ID] = true
	}
	for _, s := range sites {
		if made[s.ID] {
			continue
		}
		cams := make([]store.Camera, len(s.Cameras))
		for i, c := range s.Cameras {
			cams[i] = store.Camera{Site: s.ID, ID: c.ID, Zone: c.Zone, Name: c.Name}
		}
		site := store.Site{ID: s.ID, District: s.District, Name: s.Name, TimeZone: s.TimeZone, Kind: s.Type}
		if err := st.PutSite(ctx, site, cams); err != nil {
			return err
		}
	}
	return nil
}

// demoCredentials returns the demo users' passwords and the publish token.
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
	if creds.Password, err = demoUserPassword(ctx, st, creds.Password, store.User{Name: demoUser, Role: string(auth.RoleDuty)}); err != nil {
		return DemoCredentials{}, err
	}
	managers := make([]store.User, len(sites))
	for i, s := range sites {
		managers[i] = store.User{Name: DemoManager(s.ID), Role: string(auth.RoleSiteManager), Sites: []string{s.ID}}
	}
	if creds.ManagerPassword, err = demoUserPassword(ctx, st, creds.ManagerPassword, managers...); err != nil {
		return DemoCredentials{}, err
	}
	creds.User = demoUser
	creds.Managers = make([]string, len(managers))
	for i, m := range managers {
		creds.Managers[i] = m.Name
	}
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

// demoUserPassword returns the password users share: password when every
// one of them exists as given, enabled, with it; otherwise a new one, set
// for all of them.
func demoUserPassword(ctx context.Context, st *store.Store, password string, users ...store.User) (string, error) {
	ok := password != ""
	for _, want := range users {
		u, err := st.User(ctx, want.Name)
		if errors.Is(err, store.ErrNotFound) {
			ok = false
			break
		}
		if err != nil {
			return "", err
		}
		if u.Disabled || u.Role != want.Role || strings.Join(u.Sites, ",") != strings.Join(want.Sites, ",") ||
			auth.CheckPassword(u.PasswordHash, password) != nil {
			ok = false
			break
		}
	}
	if ok {
		return password, nil
	}
	password, err := auth.NewPassword()
	if err != nil {
		return "", err
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return "", err
	}
	for _, u := range users {
		u.PasswordHash = hash
		if err := st.PutUser(ctx, u); err != nil {
			return "", err
		}
	}
	return password, nil
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
		case "QLY_SITE_MANAGER_PASSWORD":
			c.ManagerPassword = v
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
	text := fmt.Sprintf("QLY_RELAY=%s\nQLY_USER=%s\nQLY_PASSWORD=%s\nQLY_PUBLISH_TOKEN=%s\n"+
		"QLY_SITE_MANAGERS=%s\nQLY_SITE_MANAGER_PASSWORD=%s\n",
		url, c.User, c.Password, c.PublishToken, strings.Join(c.Managers, ","), c.ManagerPassword)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
		return fmt.Errorf("writing demo credentials: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing demo credentials: %w", err)
	}
	return nil
}
