package ghapp

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v4"
)

type countingSigner struct {
	inner interface {
		Sign(jwt.Claims) (string, error)
	}
	n int
}

func (c *countingSigner) Sign(claims jwt.Claims) (string, error) {
	c.n++
	return c.inner.Sign(claims)
}

// The App's JWT is signed once and sent again for the next 30 s of token requests, still
// valid each time; a later, earlier or other App's request gets a new one.
func TestAppJWTIsReusedWhileValid(t *testing.T) {
	key, err := jwt.ParseRSAPrivateKeyFromPEM(testKey(t))
	if err != nil {
		t.Fatal(err)
	}
	s := newReusedJWT(key)
	count := &countingSigner{inner: s.signer}
	s.signer = count
	// As ghinstallation's AppsTransport makes them, for a request at now.
	claims := func(app string, now time.Time) *jwt.RegisteredClaims {
		iss := now.Add(-30 * time.Second).Truncate(time.Second)
		return &jwt.RegisteredClaims{IssuedAt: jwt.NewNumericDate(iss), ExpiresAt: jwt.NewNumericDate(iss.Add(2 * time.Minute)), Issuer: app}
	}
	t0 := time.Now()
	sign := func(app string, at time.Time) string {
		t.Helper()
		tok, err := s.Sign(claims(app, at))
		if err != nil {
			t.Fatal(err)
		}
		// What GitHub checks: the signature, and that it has not expired at the request.
		var got jwt.RegisteredClaims
		if _, err := jwt.ParseWithClaims(tok, &got, func(*jwt.Token) (any, error) { return &key.PublicKey, nil },
			jwt.WithoutClaimsValidation()); err != nil {
			t.Fatal(err)
		}
		if left := got.ExpiresAt.Sub(at); left < time.Minute {
			t.Errorf("the JWT sent at +%s expires %s later, want at least a minute", at.Sub(t0), left)
		}
		if got.Issuer != app {
			t.Errorf("issuer %q, want %q", got.Issuer, app)
		}
		return tok
	}
	first := sign("42", t0)
	for _, d := range []time.Duration{0, time.Second, 29 * time.Second} {
		if sign("42", t0.Add(d)) != first {
			t.Errorf("a request %s later signed a new JWT", d)
		}
	}
	if count.n != 1 {
		t.Fatalf("%d signatures for 4 requests within 30 s, want 1", count.n)
	}
	if sign("43", t0) == first {
		t.Error("another App's request got the first App's JWT")
	}
	if sign("42", t0.Add(-5*time.Second)) == first {
		t.Error("a request dated before the JWT got it")
	}
	later := sign("42", t0.Add(31*time.Second))
	if later == first || count.n != 4 {
		t.Errorf("a request 31 s later: same JWT %v, %d signatures (want a new one, 4)", later == first, count.n)
	}
}
