package handlers

// ParseRouting is parseRouting, for the external tests and benchmarks.
func ParseRouting(body []byte) (installation, repo int64, number int, zen string, err error) {
	r, err := parseRouting(body)
	return r.InstallationID, r.RepoID, r.IssueNumber, r.Zen, err
}
