package ghfake

import (
	"github.com/google/go-github/v60/github"
)

// hGetApp is GET /app: the App the JWT is signed for, which a bot asks for its slug (its bot
// user is "<slug>[bot]"). Not in the OpenAPI subset of testdata: its schema is GitHub's large
// "integration" object; the fields here are the ones clients read.
func (s *Server) hGetApp(c *call) response {
	return jsonResponse(200, &github.App{
		ID:        ptr(s.appID),
		Slug:      ptr(s.appSlug),
		NodeID:    ptr("A_ghfake"),
		Name:      ptr(s.appSlug),
		HTMLURL:   ptr("https://github.com/apps/" + s.appSlug),
		Owner:     s.ghUserLocked("ghfake-owner"),
		CreatedAt: &github.Timestamp{Time: c.now}, UpdatedAt: &github.Timestamp{Time: c.now},
	})
}
