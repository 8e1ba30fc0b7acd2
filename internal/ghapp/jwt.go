package ghapp

import (
	"crypto/rsa"
	"sync"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/golang-jwt/jwt/v4"
)

// jwtReuse is how long a signed App JWT is sent again instead of signing a new one.
// ghinstallation dates each JWT 30 s in the past and lets it live 2 minutes, so one sent again
// up to 30 s later still has a minute left; GitHub accepts a JWT for as many requests as its
// lifetime allows (up to 10 minutes).
const jwtReuse = 30 * time.Second

// reusedJWT is the Signer of every AppsTransport of an App: it signs an App JWT (an RSA
// signature, about 2 ms of CPU) at most once per jwtReuse, where ghinstallation signs one for
// each installation token it asks for. A thousand new installations' first events signed a
// thousand JWTs in a few seconds (12 % of the bot's CPU in the load tool's -ghfake run).
type reusedJWT struct {
	signer ghinstallation.Signer

	mu    sync.Mutex
	token string
	iss   string
	iat   time.Time
}

func newReusedJWT(key *rsa.PrivateKey) *reusedJWT {
	return &reusedJWT{signer: ghinstallation.NewRSASigner(jwt.SigningMethodRS256, key)}
}

// Sign returns the JWT signed last when the claims are ghinstallation's (issuer, issued-at,
// expiry), of the same issuer, issued at most jwtReuse after it; otherwise it signs them.
func (s *reusedJWT) Sign(claims jwt.Claims) (string, error) {
	rc, ok := claims.(*jwt.RegisteredClaims)
	if !ok || rc.IssuedAt == nil || rc.ExpiresAt == nil {
		return s.signer.Sign(claims)
	}
	iat := rc.IssuedAt.Time
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != "" && s.iss == rc.Issuer && !iat.Before(s.iat) && iat.Sub(s.iat) < jwtReuse {
		return s.token, nil
	}
	token, err := s.signer.Sign(claims)
	if err != nil {
		return "", err
	}
	s.token, s.iss, s.iat = token, rc.Issuer, iat
	return token, nil
}
