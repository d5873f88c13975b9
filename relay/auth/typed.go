package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
)

// typedKey keys the hashes of typed names: the same name is the same hash
// while the relay runs (a spray of names tells from one name tried again),
// and no list of guesses recovers a name from its hash in the log.
var typedKey = func() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k) // never fails (crypto/rand)
	return k
}()

// TypedName is how a log names the user a refused sign-in was for: the
// name of an account the relay has as it is, anything else by a short
// keyed hash ("?" and 12 hex digits), never as typed — it may be a
// password typed in the user field.
func TypedName(typed string, account bool) string {
	if account {
		return typed
	}
	m := hmac.New(sha256.New, typedKey)
	m.Write([]byte(typed))
	return "?" + hex.EncodeToString(m.Sum(nil)[:6])
}
