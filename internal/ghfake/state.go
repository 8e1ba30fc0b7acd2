package ghfake

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
)

const (
	apiBase  = "https://api.github.com"
	htmlBase = "https://github.com"
)

type user struct {
	id    int64
	login string
	typ   string // "User", "Bot", "Organization"
}

type installation struct {
	id      int64
	account string
	repos   map[int64]bool
	perms   map[string]string // granted, see SetInstallationPermissions
}

type instToken struct {
	installation int64
	expires      time.Time
	perms        map[string]string // the installation's when the token was issued
}

type repo struct {
	id             int64
	owner, name    string
	defaultBranch  string
	installationID int64
	created        time.Time
	issues         map[int]*issue
	nextNumber     int
	labels         []*label
	perms          map[string]string // lower login → role name
	assoc          map[string]string // lower login → author_association override
	files          map[string]*file
	head           string
}

func (r *repo) fullName() string { return r.owner + "/" + r.name }

type issue struct {
	id          int64
	number      int
	title, body string
	author      string
	assoc       string
	state       string
	stateReason string
	labels      []string // label names as created in the repository
	assignees   []string
	comments    []*comment
	reactions   []*reaction
	created     time.Time
	updated     time.Time
	closed      time.Time
	closedBy    string
	locked      bool
	pull        bool // a pull request (OpenPullRequest)
}

type comment struct {
	id        int64
	issue     int
	body      string
	user      string
	assoc     string
	created   time.Time
	updated   time.Time
	reactions []*reaction
}

type reaction struct {
	id      int64
	user    string
	content string
	created time.Time
}

type label struct {
	id          int64
	name        string
	color       string
	description string
}

type file struct {
	content []byte
	sha     string
}

// Issue is a snapshot of an issue.
type Issue struct {
	Number            int
	Title, Body       string
	Author            string
	AuthorAssociation string
	State             string // "open" or "closed"
	StateReason       string
	Labels            []string
	Assignees         []string
	Comments          []Comment
	Reactions         []Reaction // to the issue itself
	CreatedAt         time.Time
	Locked            bool
	PullRequest       bool
}

// Comment is a snapshot of an issue comment.
type Comment struct {
	ID                int64
	Issue             int
	Body              string
	User              string
	AuthorAssociation string
	Reactions         []Reaction
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// Reaction is a reaction to a comment.
type Reaction struct {
	User    string
	Content string
}

// Label is a repository label.
type Label struct {
	Name        string
	Color       string
	Description string
}

func splitRepo(full string) (owner, name string, err error) {
	owner, name, ok := strings.Cut(full, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return "", "", fmt.Errorf("repository %q: want owner/name", full)
	}
	return owner, name, nil
}

func (s *Server) newIDLocked() int64 {
	s.nextID++
	return s.nextID
}

func (s *Server) userLocked(login string) *user {
	k := strings.ToLower(login)
	if u, ok := s.users[k]; ok {
		return u
	}
	u := &user{id: s.newIDLocked(), login: login, typ: "User"}
	if strings.HasSuffix(login, "[bot]") {
		u.typ = "Bot"
	}
	s.users[k] = u
	return u
}

func (s *Server) ensureInstallation(id int64, account string) *installation {
	if in, ok := s.installs[id]; ok {
		return in
	}
	in := &installation{id: id, account: account, repos: map[int64]bool{}, perms: DefaultPermissions()}
	s.installs[id] = in
	if id > s.nextInstall {
		s.nextInstall = id
	}
	acct := s.userLocked(account)
	acct.typ = "Organization"
	return in
}

func (s *Server) ensureRepo(full string) *repo {
	if r, ok := s.repos[strings.ToLower(full)]; ok {
		return r
	}
	owner, name, _ := splitRepo(full)
	s.userLocked(owner)
	r := &repo{
		id: s.newIDLocked(), owner: owner, name: name, defaultBranch: "main",
		created: s.now(), issues: map[int]*issue{}, perms: map[string]string{},
		assoc: map[string]string{}, files: map[string]*file{}, head: fakeSHA("init " + full),
	}
	s.repos[strings.ToLower(full)] = r
	return r
}

func (s *Server) repoLocked(full string) (*repo, error) {
	r, ok := s.repos[strings.ToLower(full)]
	if !ok {
		return nil, fmt.Errorf("ghfake: no repository %q", full)
	}
	return r, nil
}

func (s *Server) issueLocked(full string, number int) (*repo, *issue, error) {
	r, err := s.repoLocked(full)
	if err != nil {
		return nil, nil, err
	}
	is, ok := r.issues[number]
	if !ok {
		return nil, nil, fmt.Errorf("ghfake: no issue %s#%d", full, number)
	}
	return r, is, nil
}

func (r *repo) findLabel(name string) *label {
	for _, l := range r.labels {
		if strings.EqualFold(l.name, name) {
			return l
		}
	}
	return nil
}

// labelFor returns the repository label, creating it as GitHub does when an unknown label is
// added to an issue.
func (s *Server) labelForLocked(r *repo, name string) *label {
	if l := r.findLabel(name); l != nil {
		return l
	}
	l := &label{id: s.newIDLocked(), name: name, color: "ededed"}
	r.labels = append(r.labels, l)
	return l
}

func (is *issue) hasLabel(name string) bool {
	return slices.ContainsFunc(is.labels, func(l string) bool { return strings.EqualFold(l, name) })
}

func (is *issue) findComment(id int64) *comment {
	for _, c := range is.comments {
		if c.id == id {
			return c
		}
	}
	return nil
}

func (r *repo) findComment(id int64) (*issue, *comment) {
	for _, is := range r.issues {
		if c := is.findComment(id); c != nil {
			return is, c
		}
	}
	return nil, nil
}

var roles = []string{"read", "triage", "write", "maintain", "admin"}

// associationLocked computes author_association as GitHub would for a public repository.
func (s *Server) associationLocked(r *repo, login string) string {
	k := strings.ToLower(login)
	if a, ok := r.assoc[k]; ok {
		return a
	}
	if strings.EqualFold(login, r.owner) {
		return "OWNER"
	}
	if role := r.perms[k]; role != "" && role != "read" {
		return "COLLABORATOR"
	}
	return "NONE"
}

func fakeSHA(seed string) string {
	h := sha1.Sum([]byte(seed))
	return hex.EncodeToString(h[:])
}

func blobSHA(content []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(content))
	h.Write(content)
	return hex.EncodeToString(h.Sum(nil))
}

func (s *Server) snapshotIssueLocked(is *issue) Issue {
	out := Issue{
		Number: is.number, Title: is.title, Body: is.body, Author: is.author,
		AuthorAssociation: is.assoc, State: is.state, StateReason: is.stateReason,
		Labels: cloneOrNil(is.labels), Assignees: cloneOrNil(is.assignees), CreatedAt: is.created,
		Locked: is.locked, PullRequest: is.pull,
	}
	for _, c := range is.comments {
		out.Comments = append(out.Comments, snapshotComment(c))
	}
	for _, rc := range is.reactions {
		out.Reactions = append(out.Reactions, Reaction{User: rc.user, Content: rc.content})
	}
	return out
}

func snapshotComment(c *comment) Comment {
	out := Comment{ID: c.id, Issue: c.issue, Body: c.body, User: c.user, AuthorAssociation: c.assoc,
		CreatedAt: c.created, UpdatedAt: c.updated}
	for _, rc := range c.reactions {
		out.Reactions = append(out.Reactions, Reaction{User: rc.user, Content: rc.content})
	}
	return out
}

// Issue returns a snapshot of an issue and whether it exists.
func (s *Server) Issue(repo string, number int) (Issue, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, is, err := s.issueLocked(repo, number)
	if err != nil {
		return Issue{}, false
	}
	return s.snapshotIssueLocked(is), true
}

// Comments returns the comments of an issue, oldest first.
func (s *Server) Comments(repo string, number int) []Comment {
	is, _ := s.Issue(repo, number)
	return is.Comments
}

// Labels returns the labels of a repository in creation order.
func (s *Server) Labels(repo string) []Label {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.repoLocked(repo)
	if err != nil {
		return nil
	}
	out := make([]Label, 0, len(r.labels))
	for _, l := range r.labels {
		out = append(out, Label{Name: l.name, Color: l.color, Description: l.description})
	}
	return out
}

// RepositoryID returns the id of a repository, 0 when it does not exist.
func (s *Server) RepositoryID(repo string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.repoLocked(repo)
	if err != nil {
		return 0
	}
	return r.id
}

// cloneOrNil copies s; empty is nil, so snapshots compare the same however they got empty.
func cloneOrNil[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}
