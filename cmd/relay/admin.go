package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/relay"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/config"
	"github.com/qianliyan/qianliyan/relay/hub"
	"github.com/qianliyan/qianliyan/relay/rtsppull"
	"github.com/qianliyan/qianliyan/relay/store"
)

// usageError is a bad command line: the message is printed and the exit
// status is 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// cliTokenLabel groups the publish tokens made by "relay site add --new-token".
const cliTokenLabel = "cli"

const adminUsage = `Usage: relay COMMAND [flags]
Commands on the relay's data directory (--data, default ./data); they may
run while the relay does. Passwords are read from standard input (the first
line) or, on a terminal, prompted for; never from the command line.

  relay user add NAME --role duty|supervisor|site_manager|admin [--sites SITE,…]
  relay user passwd NAME
  relay user disable NAME
  relay user enable NAME
  relay user list
  relay site add SITE --name-zh … --name-en … --district-zh … --district-en … [--time-zone Asia/Shanghai] [--new-token]
  relay site list
  relay camera add SITE/CAMERA --zone ZONE --name-zh … --name-en … [--main URL] [--sub URL] [--transport tcp|udp|auto]
  relay camera list [--site SITE]
  relay coverage watches --from TIME [--to TIME] [--officer NAME] [--site SITE] [--camera CAMERA] [--time-zone Asia/Shanghai] [--limit N]

RTSP URLs name the camera's user without its password (rtsp://admin@host/…);
the password is then read like a user's. A camera without --main or --sub
is published by WHIP. Changes apply to a running relay at once (users,
sites), or within seconds (the RTSP sources it pulls). A password change or
a disable revokes the user's sign-ins: a running relay refuses their tokens
at once and ends their video, event streams and long polls within seconds.
"relay coverage watches" prints who had which camera on screen when (the
consoles' watch intervals, by the relay's clock); TIME is 2026-12-02T08:00
in --time-zone, or RFC 3339.
`

// admin runs a user, site or camera command; it returns the exit status.
func admin(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	err := runAdmin(ctx, args, stdin, stdout, stderr)
	var ue *usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stderr, adminUsage)
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "relay: %v\n", err)
		return 2
	default:
		fmt.Fprintf(stderr, "relay: %v\n", err)
		return 1
	}
}

type command struct {
	name string
	run  func(ctx context.Context, a *adminCtx, args []string) error
}

// adminCtx is what every command has: its input, output and database.
type adminCtx struct {
	stdin          io.Reader
	lines          *bufio.Reader // stdin, when it is not a terminal
	stdout, stderr io.Writer
	data           string
	st             *store.Store
}

var commands = []command{
	{"user add", userAdd}, {"user passwd", userPasswd}, {"user disable", userDisable(true)},
	{"user enable", userDisable(false)}, {"user list", userList},
	{"site add", siteAdd}, {"site list", siteList},
	{"camera add", cameraAdd}, {"camera list", cameraList},
	{"coverage watches", coverageWatches},
}

func runAdmin(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) < 2 {
		return usagef("%s: want a subcommand (%s); see relay %s --help", args[0], strings.Join(subcommands(args[0]), ", "), args[0])
	}
	name := args[0] + " " + args[1]
	i := slices.IndexFunc(commands, func(c command) bool { return c.name == name })
	if i < 0 {
		if args[1] == "-h" || args[1] == "--help" || args[1] == "help" {
			return flag.ErrHelp
		}
		return usagef("%s: unknown subcommand %q (want %s)", args[0], args[1], strings.Join(subcommands(args[0]), ", "))
	}
	a := &adminCtx{stdin: stdin, stdout: stdout, stderr: stderr}
	return commands[i].run(ctx, a, args[2:])
}

func subcommands(group string) []string {
	var out []string
	for _, c := range commands {
		if g, sub, _ := strings.Cut(c.name, " "); g == group {
			out = append(out, sub)
		}
	}
	return out
}

// flags returns a flag set with --data for a command.
func (a *adminCtx) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("relay "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported once, by admin
	fs.StringVar(&a.data, "data", config.DefaultDataDir, "data directory")
	return fs
}

// parse parses flags that may come before or after the positional
// arguments, and checks there are want of those.
func parse(fs *flag.FlagSet, args []string, want int, what string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usagef("%s: %v", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if len(pos) != want {
		if want == 0 {
			return nil, usagef("%s: unexpected argument %q", fs.Name(), pos[0])
		}
		return nil, usagef("%s: want %s", fs.Name(), what)
	}
	return pos, nil
}

// open opens the relay database in the data directory, creating both.
func (a *adminCtx) open(ctx context.Context) error {
	if a.data == "" {
		return usagef("--data must not be empty")
	}
	if err := os.MkdirAll(a.data, 0o700); err != nil {
		return fmt.Errorf("creating data directory: %w", err)
	}
	st, err := store.Open(ctx, filepath.Join(a.data, relay.DatabaseFile))
	if err != nil {
		return err
	}
	a.st = st
	return nil
}

func (a *adminCtx) close() {
	if a.st != nil {
		a.st.Close()
	}
}

// secret reads a password: prompted for, twice, without echo on a
// terminal; otherwise the next line of standard input.
func (a *adminCtx) secret(prompt string) (string, error) {
	if f, ok := a.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(a.stderr, prompt+": ")
		p1, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(a.stderr)
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		fmt.Fprint(a.stderr, prompt+" again: ")
		p2, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(a.stderr)
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		if string(p1) != string(p2) {
			return "", usagef("the passwords differ")
		}
		if len(p1) == 0 {
			return "", usagef("empty password")
		}
		return string(p1), nil
	}
	if a.lines == nil {
		a.lines = bufio.NewReader(a.stdin)
	}
	line, err := a.lines.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	if password == "" {
		return "", usagef("%s: empty password on standard input", strings.ToLower(prompt))
	}
	return password, nil
}

// minPassword is the shortest password a user may be given.
const minPassword = 8

// passwordHash reads a user's new password and returns its hash, the one
// form the store keeps.
func (a *adminCtx) passwordHash() (string, error) {
	p, err := a.secret("Password")
	if err != nil {
		return "", err
	}
	if len([]rune(p)) < minPassword {
		return "", usagef("the password must have at least %d characters", minPassword)
	}
	return auth.HashPassword(p)
}

// openListing parses a listing's flags (it takes no arguments) and opens
// the store.
func (a *adminCtx) openListing(ctx context.Context, fs *flag.FlagSet, args []string) error {
	if _, err := parse(fs, args, 0, ""); err != nil {
		return err
	}
	return a.open(ctx)
}

// table writes a listing's columns, header first, aligned as the other
// listings are.
func (a *adminCtx) table(header string) *tabwriter.Writer {
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	return tw
}

func userAdd(ctx context.Context, a *adminCtx, args []string) error {
	fs := a.flags("user add")
	role := fs.String("role", "", "duty, supervisor, site_manager or admin")
	sites := fs.String("sites", "", "a site manager's sites, comma-separated")
	pos, err := parse(fs, args, 1, "one user NAME")
	if err != nil {
		return err
	}
	name := pos[0]
	if err := config.CheckUserName(name); err != nil {
		return usagef("%v", err)
	}
	r, err := auth.ParseRole(*role)
	if err != nil {
		return usagef("--role: %v", err)
	}
	var siteList []string
	if *sites != "" {
		siteList = strings.Split(*sites, ",")
	}
	if r == auth.RoleSiteManager && len(siteList) == 0 {
		return usagef("a site_manager needs --sites")
	}
	if r != auth.RoleSiteManager && len(siteList) > 0 {
		return usagef("--sites applies to site managers only; a %s sees every site", r)
	}
	if err := a.open(ctx); err != nil {
		return err
	}
	defer a.close()
	if _, err := a.st.User(ctx, name); err == nil {
		return usagef("user %s exists; use relay user passwd or enable/disable", name)
	}
	known, err := a.st.Sites(ctx)
	if err != nil {
		return err
	}
	for _, s := range siteList {
		if !slices.ContainsFunc(known, func(k store.Site) bool { return k.ID == s }) {
			return usagef("--sites: unknown site %q (relay site list)", s)
		}
	}
	hash, err := a.passwordHash()
	if err != nil {
		return err
	}
	if err := a.st.PutUser(ctx, store.User{Name: name, Role: string(r), PasswordHash: hash, Sites: siteList}); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "user %s added (%s)\n", name, r)
	return nil
}

func userPasswd(ctx context.Context, a *adminCtx, args []string) error {
	fs := a.flags("user passwd")
	pos, err := parse(fs, args, 1, "one user NAME")
	if err != nil {
		return err
	}
	if err := a.open(ctx); err != nil {
		return err
	}
	defer a.close()
	if _, err := a.st.User(ctx, pos[0]); errors.Is(err, store.ErrNotFound) {
		return usagef("no user %s (relay user list)", pos[0])
	} else if err != nil {
		return err
	}
	hash, err := a.passwordHash()
	if err != nil {
		return err
	}
	if err := a.st.SetPassword(ctx, pos[0], hash); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "password of %s changed; their sign-ins are revoked (a running relay ends what they have open within seconds)\n", pos[0])
	return nil
}

func userDisable(disable bool) func(context.Context, *adminCtx, []string) error {
	verb := map[bool]string{true: "disable", false: "enable"}[disable]
	return func(ctx context.Context, a *adminCtx, args []string) error {
		fs := a.flags("user " + verb)
		pos, err := parse(fs, args, 1, "one user NAME")
		if err != nil {
			return err
		}
		if err := a.open(ctx); err != nil {
			return err
		}
		defer a.close()
		if err := a.st.SetDisabled(ctx, pos[0], disable); errors.Is(err, store.ErrNotFound) {
			return usagef("no user %s (relay user list)", pos[0])
		} else if err != nil {
			return err
		}
		if disable {
			fmt.Fprintf(a.stdout, "user %s disabled; their sign-ins are revoked (a running relay ends what they have open within seconds)\n", pos[0])
		} else {
			fmt.Fprintf(a.stdout, "user %s enabled\n", pos[0])
		}
		return nil
	}
}

func userList(ctx context.Context, a *adminCtx, args []string) error {
	if err := a.openListing(ctx, a.flags("user list"), args); err != nil {
		return err
	}
	defer a.close()
	users, err := a.st.Users(ctx)
	if err != nil {
		return err
	}
	tw := a.table("NAME\tROLE\tSITES\tSTATUS\tCREATED")
	for _, u := range users {
		status := "active"
		if u.Disabled {
			status = "disabled"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Name, u.Role, dash(strings.Join(u.Sites, ",")), status, u.CreatedAt.UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// names reads the --name-zh/--name-en style pair of a display name.
type names struct{ zh, en *string }

func nameFlags(fs *flag.FlagSet, prefix, what string) names {
	return names{
		zh: fs.String(prefix+"-zh", "", what+" in Chinese"),
		en: fs.String(prefix+"-en", "", what+" in English"),
	}
}

func (n names) get(prefix string) (bilingual.Text, error) {
	name := bilingual.New(*n.zh, *n.en)
	if !name.Complete() {
		return nil, usagef("--%s-zh and --%s-en are both required", prefix, prefix)
	}
	return name, nil
}

func siteAdd(ctx context.Context, a *adminCtx, args []string) error {
	fs := a.flags("site add")
	name := nameFlags(fs, "name", "the site's name")
	district := nameFlags(fs, "district", "the site's district")
	tz := fs.String("time-zone", "Asia/Shanghai", "IANA time zone of the site")
	newToken := fs.Bool("new-token", false, "print a new publish token for the site's gateway, replacing the last one made this way")
	pos, err := parse(fs, args, 1, "one SITE id")
	if err != nil {
		return err
	}
	id := pos[0]
	if err := config.CheckID("site id", id); err != nil {
		return usagef("%v", err)
	}
	n, err := name.get("name")
	if err != nil {
		return err
	}
	d, err := district.get("district")
	if err != nil {
		return err
	}
	if _, err := time.LoadLocation(*tz); err != nil || *tz == "" {
		return usagef("--time-zone %q: not an IANA time zone (e.g. Asia/Shanghai)", *tz)
	}
	if err := a.open(ctx); err != nil {
		return err
	}
	defer a.close()
	if err := a.st.PutSiteInfo(ctx, store.Site{ID: id, Name: n, District: d, TimeZone: *tz}); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "site %s saved\n", id)
	if *newToken {
		token, hash, err := auth.NewPublishToken()
		if err != nil {
			return err
		}
		if err := a.st.SetPublishTokens(ctx, id, cliTokenLabel, [][]byte{hash}); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "publish token (shown once): %s\n", token)
	}
	return nil
}

func siteList(ctx context.Context, a *adminCtx, args []string) error {
	if err := a.openListing(ctx, a.flags("site list"), args); err != nil {
		return err
	}
	defer a.close()
	sites, err := a.st.Sites(ctx)
	if err != nil {
		return err
	}
	cams, err := a.st.Cameras(ctx)
	if err != nil {
		return err
	}
	tw := a.table("SITE\tNAME\tDISTRICT\tTIME ZONE\tCAMERAS")
	for _, s := range sites {
		n := 0
		for _, c := range cams {
			if c.Site == s.ID {
				n++
			}
		}
		fmt.Fprintf(tw, "%s\t%s / %s\t%s / %s\t%s\t%d\n", s.ID, s.Name[bilingual.ZH], s.Name[bilingual.EN], s.District[bilingual.ZH], s.District[bilingual.EN], s.TimeZone, n)
	}
	return tw.Flush()
}

func cameraAdd(ctx context.Context, a *adminCtx, args []string) error {
	fs := a.flags("camera add")
	zone := fs.String("zone", "", "the zone key checklists match, e.g. doffing_room_1")
	name := nameFlags(fs, "name", "the camera's name")
	mainURL := fs.String("main", "", "RTSP URL of the main stream, rtsp://[user@]host[:port]/path")
	subURL := fs.String("sub", "", "RTSP URL of the sub stream")
	transport := fs.String("transport", "auto", "RTSP transport: tcp, udp or auto")
	pos, err := parse(fs, args, 1, "one SITE/CAMERA")
	if err != nil {
		return err
	}
	site, id, ok := strings.Cut(pos[0], "/")
	if !ok {
		return usagef("camera %q: want SITE/CAMERA, e.g. site-01/doff1", pos[0])
	}
	for _, c := range []struct{ what, v string }{{"site id", site}, {"camera id", id}, {"--zone", *zone}} {
		if err := config.CheckID(c.what, c.v); err != nil {
			return usagef("%v", err)
		}
	}
	n, err := name.get("name")
	if err != nil {
		return err
	}
	urls := map[string]*string{hub.StreamMain: mainURL, hub.StreamSub: subURL}
	var needPassword bool
	for _, stream := range []string{hub.StreamMain, hub.StreamSub} {
		raw := *urls[stream]
		if raw == "" {
			continue
		}
		if err := config.CheckSource(site, id, stream, config.Source{URL: raw, Transport: *transport}); err != nil {
			return usagef("--%s: %v", stream, err)
		}
		u, _ := url.Parse(raw) // checked
		if _, has := u.User.Password(); has {
			return usagef("--%s %s: give the user only (rtsp://user@host/…); the password is read from standard input, never the command line", stream, rtsppull.Redact(raw))
		}
		needPassword = needPassword || u.User != nil
	}
	if *mainURL == "" && *subURL == "" && *transport != "auto" {
		return usagef("--transport applies to --main and --sub")
	}
	if err := a.open(ctx); err != nil {
		return err
	}
	defer a.close()
	var password string
	if needPassword {
		if password, err = a.secret("RTSP password"); err != nil {
			return err
		}
	}
	cam := store.Camera{Site: site, ID: id, Zone: *zone, Name: n}
	for _, stream := range []string{hub.StreamMain, hub.StreamSub} {
		raw := *urls[stream]
		if raw == "" {
			continue
		}
		u, _ := url.Parse(raw)
		if u.User != nil {
			u.User = url.UserPassword(u.User.Username(), password)
		}
		cam.Sources = append(cam.Sources, store.Source{Stream: stream, URL: u.String(), Transport: config.Source{Transport: *transport}.PullTransport()})
	}
	if err := a.st.PutCamera(ctx, cam); errors.Is(err, store.ErrNotFound) {
		return usagef("no site %s (relay site add)", site)
	} else if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "camera %s/%s saved\n", site, id)
	return nil
}

func cameraList(ctx context.Context, a *adminCtx, args []string) error {
	fs := a.flags("camera list")
	site := fs.String("site", "", "list this site's cameras only")
	if err := a.openListing(ctx, fs, args); err != nil {
		return err
	}
	defer a.close()
	cams, err := a.st.Cameras(ctx)
	if err != nil {
		return err
	}
	sources, err := a.st.CameraSources(ctx)
	if err != nil {
		return err
	}
	// Only the URLs' passwords are hidden: the rest tells where the relay
	// pulls from.
	source := func(c store.Camera, stream string) string {
		for _, s := range sources {
			if s.Site == c.Site && s.Camera == c.ID && s.Stream == stream {
				t := s.Transport
				if t == "" {
					t = "auto"
				}
				return rtsppull.Redact(s.URL) + " (" + t + ")"
			}
		}
		return "-"
	}
	tw := a.table("CAMERA\tZONE\tNAME\tMAIN\tSUB")
	for _, c := range cams {
		if *site != "" && c.Site != *site {
			continue
		}
		fmt.Fprintf(tw, "%s/%s\t%s\t%s / %s\t%s\t%s\n", c.Site, c.ID, c.Zone, c.Name[bilingual.ZH], c.Name[bilingual.EN], source(c, hub.StreamMain), source(c, hub.StreamSub))
	}
	return tw.Flush()
}
