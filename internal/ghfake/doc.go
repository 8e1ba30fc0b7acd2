// Package ghfake is an in-memory GitHub for tests and `triagebot demo`: the REST operations
// triagebot calls (exactly those of testdata/github-openapi-subset.json, against which its
// tests validate every request and response) and the signed webhooks GitHub sends.
//
// A Server is an http.Handler; wrap it in httptest.NewServer or an http.Server. It serves
// the API under a prefix ("/" like api.github.com, or "/api/v3/" like GitHub Enterprise
// Server, see WithPrefix).
//
// Authentication is GitHub's: POST /app/installations/{id}/access_tokens needs an App JWT
// (RS256, iss = AppID, exp at most ten minutes after iat, 60 s of clock drift) signed with
// the key from PrivateKeyPEM (or the caller's, see WithAppPrivateKey and WithAppPublicKey);
// everything else needs an unexpired installation token ("token X" or "Bearer X") of an
// installation that has the repository. A token carries the permissions its installation
// granted when it was issued (DefaultPermissions, the manifest's, unless
// SetInstallationPermissions or AcceptPermissions said otherwise); the Issues API answers a
// pull request (OpenPullRequest) only to a token with "pull_requests", an issue only to one
// with "issues", and 403 "Resource not accessible by integration" otherwise, as GitHub does.
//
// Every change made through the API sends the webhook GitHub would send, with the App's bot
// user (BotLogin) as sender; the helpers OpenIssue, Comment, AddLabel, ... do the same for
// simulated users. Webhooks are queued and delivered in order by one goroutine, never inside
// the API call that caused them; Flush waits for the queue to drain, Wait for any condition
// on the state. Deliveries are recorded with their status and can be redelivered.
//
// For the bot's resilience and economy: per-installation primary rate limits with GitHub's
// headers, injectable 5xx (some applied before failing), secondary limits with or without
// Retry-After, latency, a record of requests sent while told to wait (Violations), peak
// concurrency (Concurrency) and a request log with per-endpoint counts (RequestStats). Time
// comes from WithClock, so expiry and resets need no sleeping.
package ghfake
