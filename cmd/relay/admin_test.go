package main

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/relay"
	"github.com/qianliyan/qianliyan/relay/api/apitest"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/relaytest"
	"github.com/qianliyan/qianliyan/relay/store"
)

// cli runs one command line with stdin and returns its exit status and output.
func cli(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func mustCLI(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	code, out, errOut := cli(t, stdin, args...)
	if code != 0 {
		t.Fatalf("relay %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

func TestAdminCommands(t *testing.T) {
	data := t.TempDir()
	d := []string{"--data", data}
	out := mustCLI(t, "", append([]string{"site", "add", "site-07", "--name-zh", "西湖宾馆隔离点", "--name-en", "Xihu Hotel",
		"--district-zh", "西城区", "--district-en", "Xicheng District", "--new-token"}, d...)...)
	token := strings.TrimSpace(out[strings.Index(out, "(shown once): ")+len("(shown once): "):])
	if len(token) < 40 {
		t.Fatalf("site add printed %q", out)
	}
	// Flags may follow or precede the positional argument.
	mustCLI(t, "s3cret-pass\n", append(d, "user", "add", "--role", "site_manager", "li.na", "--sites", "site-07")...)
	mustCLI(t, "another-pass\n", append([]string{"user", "add", "zhao"}, append(d, "--role", "duty")...)...)
	mustCLI(t, "cam-pw\n", append([]string{"camera", "add", "site-07/doff1", "--zone", "doffing_room_1", "--name-zh", "一脱间", "--name-en", "Doffing room 1",
		"--main", "rtsp://admin@10.1.2.3:554/ch1/main", "--sub", "rtsp://admin@10.1.2.3:554/ch1/sub", "--transport", "tcp"}, d...)...)
	mustCLI(t, "", append([]string{"camera", "add", "site-07/gate", "--zone", "entrance", "--name-zh", "入口", "--name-en", "Entrance"}, d...)...)

	users := mustCLI(t, "", append([]string{"user", "list"}, d...)...)
	if !strings.Contains(users, "li.na") || !strings.Contains(users, "site_manager") || !strings.Contains(users, "site-07") || !strings.Contains(users, "zhao") {
		t.Fatalf("user list:\n%s", users)
	}
	sites := mustCLI(t, "", append([]string{"site", "list"}, d...)...)
	if !strings.Contains(sites, "site-07") || !strings.Contains(sites, "Xihu Hotel") || !strings.Contains(sites, "Asia/Shanghai") {
		t.Fatalf("site list:\n%s", sites)
	}
	cams := mustCLI(t, "", append([]string{"camera", "list", "--site", "site-07"}, d...)...)
	if strings.Contains(cams, "cam-pw") || !strings.Contains(cams, "rtsp://admin:xxxxx@10.1.2.3:554/ch1/main (tcp)") ||
		!strings.Contains(cams, "site-07/gate") {
		t.Fatalf("camera list (password shown, or sources missing):\n%s", cams)
	}

	// The database has the camera's password, for the relay to present.
	st, err := store.Open(context.Background(), filepath.Join(data, relay.DatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	srcs, err := st.CameraSources(context.Background())
	st.Close()
	if err != nil || len(srcs) != 2 || srcs[0].URL != "rtsp://admin:cam-pw@10.1.2.3:554/ch1/main" || srcs[0].Transport != "tcp" {
		t.Fatalf("stored sources %+v, %v", srcs, err)
	}

	mustCLI(t, "changed-pass\n", append([]string{"user", "passwd", "zhao"}, d...)...)
	mustCLI(t, "", append([]string{"user", "disable", "li.na"}, d...)...)

	// The relay serving that directory lets them in, or not.
	r := relaytest.Serve(t, relay.Options{DataDir: data, Log: zerolog.Nop()})
	login := func(user, password string) int {
		resp, _ := apitest.Call(t, "POST", r.URL()+"/api/v1/login", "", apitest.JSON, apitest.LoginBody(user, password))
		return resp.StatusCode
	}
	if code := login("zhao", "changed-pass"); code != http.StatusOK {
		t.Fatalf("login with the changed password: %d", code)
	}
	if code := login("li.na", "s3cret-pass"); code != http.StatusUnauthorized {
		t.Fatalf("login of a disabled user: %d", code)
	}
	mustCLI(t, "", append([]string{"user", "enable", "li.na"}, d...)...)
	if code := login("li.na", "s3cret-pass"); code != http.StatusOK {
		t.Fatalf("login after enable: %d", code)
	}
	if !auth.MatchPublishToken(token, mustHashes(t, r, data)) {
		t.Fatal("the printed publish token is not the site's")
	}
}

func mustHashes(t *testing.T, r *relay.Relay, data string) [][]byte {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(data, relay.DatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h, err := st.PublishTokenHashes(context.Background(), "site-07")
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestAdminBadInput(t *testing.T) {
	data := t.TempDir()
	mustCLI(t, "", "site", "add", "site-01", "--name-zh", "甲", "--name-en", "A", "--district-zh", "乙", "--district-en", "B", "--data", data)
	mustCLI(t, "long-enough\n", "user", "add", "zhao", "--role", "duty", "--data", data)
	site := []string{"--name-zh", "甲", "--name-en", "A", "--district-zh", "乙", "--district-en", "B", "--data", data}
	cam := []string{"--zone", "entrance", "--name-zh", "入口", "--name-en", "Entrance", "--data", data}
	cases := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"no subcommand", "", []string{"user"}, "want a subcommand (add, passwd, disable, enable, list)"},
		{"unknown subcommand", "", []string{"site", "remove"}, `unknown subcommand "remove"`},
		{"unknown flag", "", []string{"user", "list", "--all", "--data", data}, "flag provided but not defined: -all"},
		{"extra argument", "", []string{"user", "list", "zhao", "--data", data}, `unexpected argument "zhao"`},
		{"user without name", "pw-long-enough\n", []string{"user", "add", "--role", "duty", "--data", data}, "want one user NAME"},
		{"bad user name", "pw-long-enough\n", []string{"user", "add", "li na", "--role", "duty", "--data", data}, `user name "li na"`},
		{"unknown role", "pw-long-enough\n", []string{"user", "add", "li", "--role", "root", "--data", data}, `role "root"`},
		{"site manager without sites", "pw-long-enough\n", []string{"user", "add", "li", "--role", "site_manager", "--data", data}, "needs --sites"},
		{"sites for a duty user", "pw-long-enough\n", []string{"user", "add", "li", "--role", "duty", "--sites", "site-01", "--data", data}, "site managers only"},
		{"unknown site", "pw-long-enough\n", []string{"user", "add", "li", "--role", "site_manager", "--sites", "site-09", "--data", data}, `unknown site "site-09"`},
		{"existing user", "pw-long-enough\n", []string{"user", "add", "zhao", "--role", "duty", "--data", data}, "user zhao exists"},
		{"no password", "", []string{"user", "add", "li", "--role", "duty", "--data", data}, "empty password on standard input"},
		{"short password", "short\n", []string{"user", "add", "li", "--role", "duty", "--data", data}, "at least 8 characters"},
		{"password of nobody", "pw-long-enough\n", []string{"user", "passwd", "nobody", "--data", data}, "no user nobody"},
		{"disable nobody", "", []string{"user", "disable", "nobody", "--data", data}, "no user nobody"},
		{"bad site id", "", append([]string{"site", "add", "Site 1"}, site...), `site id "Site 1"`},
		{"site without English name", "", []string{"site", "add", "site-02", "--name-zh", "甲", "--district-zh", "乙", "--district-en", "B", "--data", data}, "--name-zh and --name-en are both required"},
		{"bad time zone", "", append([]string{"site", "add", "site-02", "--time-zone", "Mars/Olympus"}, site...), `--time-zone "Mars/Olympus"`},
		{"camera without site", "", append([]string{"camera", "add", "doff1"}, cam...), "want SITE/CAMERA"},
		{"camera of an unknown site", "", append([]string{"camera", "add", "site-09/doff1"}, cam...), "no site site-09"},
		{"camera without zone", "", []string{"camera", "add", "site-01/gate", "--name-zh", "入口", "--name-en", "Entrance", "--data", data}, `--zone ""`},
		{"password on the command line", "", append([]string{"camera", "add", "site-01/gate", "--main", "rtsp://admin:hunter2@10.0.0.9/live"}, cam...), "rtsp://admin:xxxxx@10.0.0.9/live: give the user only"},
		{"http URL", "", append([]string{"camera", "add", "site-01/gate", "--sub", "http://10.0.0.9/live"}, cam...), "scheme must be rtsp"},
		{"bad transport", "", append([]string{"camera", "add", "site-01/gate", "--main", "rtsp://10.0.0.9/live", "--transport", "sctp"}, cam...), `transport "sctp"`},
		{"transport without URL", "", append([]string{"camera", "add", "site-01/gate", "--transport", "tcp"}, cam...), "--transport applies to --main and --sub"},
		{"camera password missing", "", append([]string{"camera", "add", "site-01/gate", "--main", "rtsp://admin@10.0.0.9/live"}, cam...), "rtsp password: empty password"},
		{"empty data", "", []string{"user", "list", "--data", ""}, "--data must not be empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := cli(t, c.stdin, c.args...)
			if code != 2 || !strings.Contains(errOut, c.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and …%s…", code, errOut, c.want)
			}
			if strings.Contains(errOut, "hunter2") {
				t.Fatal("a password reached the message")
			}
		})
	}
	// Nothing was half-made by the refused commands.
	if users := mustCLI(t, "", "user", "list", "--data", data); strings.Contains(users, "li ") {
		t.Fatalf("a refused user was saved:\n%s", users)
	}
	if cams := mustCLI(t, "", "camera", "list", "--data", data); strings.Contains(cams, "gate") {
		t.Fatalf("a refused camera was saved:\n%s", cams)
	}
	if code, _, _ := cli(t, "", "camera", "--help"); code != 0 {
		t.Fatalf("camera --help: exit %d", code)
	}
}
