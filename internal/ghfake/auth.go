package ghfake

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v4"
	"github.com/google/go-github/v60/github"
)

// GitHub's App JWT rules: RS256, iss = App ID, exp at most 10 minutes after iat, 60 s of clock
// drift allowed.
const (
	jwtMaxLifetime = 10 * time.Minute
	jwtDrift       = 60 * time.Second
)

// verifyJWTLocked returns "" when header carries a valid App JWT, else GitHub's message.
func (s *Server) verifyJWTLocked(header string, now time.Time) string {
	scheme, tok, _ := strings.Cut(header, " ")
	if header == "" {
		return "A JSON web token could not be decoded"
	}
	if !strings.EqualFold(scheme, "bearer") {
		return "A JSON web token could not be decoded"
	}
	p := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation(), jwt.WithJSONNumber())
	claims := jwt.MapClaims{}
	verified := false
	for _, key := range append([]*rsa.PublicKey{s.pubKey}, s.extraKeys...) {
		if _, err := p.ParseWithClaims(strings.TrimSpace(tok), claims, func(*jwt.Token) (any, error) { return key, nil }); err == nil {
			verified = true
			break
		}
	}
	if !verified {
		return "A JSON web token could not be decoded"
	}
	iss := fmt.Sprint(claims["iss"])
	if iss != strconv.FormatInt(s.appID, 10) {
		return fmt.Sprintf("'Issuer' claim ('iss') must be an Integer, the App ID %d", s.appID)
	}
	iat, okIat := numClaim(claims["iat"])
	exp, okExp := numClaim(claims["exp"])
	if !okIat {
		return "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued."
	}
	if !okExp {
		return "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires."
	}
	iatT, expT := time.Unix(iat, 0), time.Unix(exp, 0)
	switch {
	case iatT.After(now.Add(jwtDrift)):
		return "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued."
	case !expT.After(now):
		return "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires."
	case expT.Sub(iatT) > jwtMaxLifetime+jwtDrift || expT.After(now.Add(jwtMaxLifetime+jwtDrift)):
		return "'Expiration time' claim ('exp') is too far in the future."
	}
	return ""
}

func numClaim(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	if i, err := n.Int64(); err == nil {
		return i, true
	}
	f, err := n.Float64()
	return int64(f), err == nil
}

const tokenChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func newToken() string {
	var b [36]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = tokenChars[int(b[i])%len(tokenChars)]
	}
	return "ghs_" + string(b[:])
}

// NewInstallationToken issues a token as POST /app/installations/{id}/access_tokens does, for
// tests that need one without an App client.
func (s *Server) NewInstallationToken(installationID int64) (string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.installs[installationID]; !ok {
		return "", time.Time{}, fmt.Errorf("ghfake: no installation %d", installationID)
	}
	tok, exp := s.issueTokenLocked(installationID, s.now())
	return tok, exp, nil
}

func (s *Server) issueTokenLocked(inst int64, now time.Time) (string, time.Time) {
	tok := newToken()
	exp := now.Add(s.tokenTTL).Truncate(time.Second)
	s.tokens[tok] = &instToken{installation: inst, expires: exp, perms: maps.Clone(s.installs[inst].perms)}
	return tok, exp
}

// ExpireTokens makes every installation token issued so far invalid.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for _, t := range s.tokens {
		t.expires = now
	}
}

func (s *Server) hCreateToken(c *call) response {
	id, ok := pathInt(c, "installation_id")
	in, exists := s.installs[id]
	if !ok || !exists {
		return notFound()
	}
	if len(c.body) > 0 {
		var req github.InstallationTokenOptions
		if err := json.Unmarshal(c.body, &req); err != nil {
			return errorResponse(http.StatusBadRequest, "Problems parsing JSON")
		}
	}
	tok, exp := s.issueTokenLocked(in.id, c.now)
	return jsonResponse(http.StatusCreated, map[string]any{
		"token": tok, "expires_at": exp.UTC().Format(time.RFC3339),
		"permissions":          in.perms,
		"repository_selection": "selected",
	})
}

// AddAppKey makes GitHub accept JWTs signed with another private key of the App, as it does
// once a maintainer generates a new key in the App's settings (an App may have several).
func (s *Server) AddAppKey(key *rsa.PublicKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.extraKeys = append(s.extraKeys, key)
	s.signalLocked()
}
