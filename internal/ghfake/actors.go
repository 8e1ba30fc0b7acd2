package ghfake

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	"github.com/google/go-github/v60/github"
)

// Simulated users: each helper changes state as that user would on github.com and queues the
// webhook GitHub would send, with the user as sender.

// InstallApp installs the App on account for repos (created with default branch "main" when
// missing) and sends installation.created. It returns the installation id.
func (s *Server) InstallApp(account string, repos ...string) (int64, error) {
	for _, name := range repos {
		if _, _, err := splitRepo(name); err != nil {
			return 0, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextInstall++
	in := s.ensureInstallation(s.nextInstall, account)
	ev := &github.InstallationEvent{Action: ptr("created"), Sender: s.ghUserLocked(account),
		Installation: s.ghFullInstallationLocked(in)}
	for _, name := range repos {
		r := s.ensureRepo(name)
		r.installationID = in.id
		in.repos[r.id] = true
		ev.Repositories = append(ev.Repositories, &github.Repository{ID: ptr(r.id), NodeID: ptr(nodeID("R", r.id)),
			Name: ptr(r.name), FullName: ptr(r.fullName()), Private: ptr(false)})
	}
	s.enqueueLocked("installation", "created", in.id, 0, ev)
	return in.id, nil
}

// AddRepository adds repo (created when missing) to an installation and sends
// installation_repositories.added.
func (s *Server) AddRepository(installationID int64, repo string) error {
	if _, _, err := splitRepo(repo); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.installs[installationID]
	if !ok {
		return fmt.Errorf("ghfake: no installation %d", installationID)
	}
	r := s.ensureRepo(repo)
	r.installationID = in.id
	in.repos[r.id] = true
	ev := &github.InstallationRepositoriesEvent{Action: ptr("added"), RepositorySelection: ptr("selected"),
		Sender: s.ghUserLocked(in.account), Installation: s.ghFullInstallationLocked(in),
		RepositoriesAdded: []*github.Repository{{ID: ptr(r.id), NodeID: ptr(nodeID("R", r.id)),
			Name: ptr(r.name), FullName: ptr(r.fullName()), Private: ptr(false)}},
		RepositoriesRemoved: []*github.Repository{}}
	s.enqueueLocked("installation_repositories", "added", in.id, 0, ev)
	return nil
}

// OpenIssue opens an issue as user and sends issues.opened, then issues.labeled for each
// label (as GitHub does for labels an issue template applies). It returns the issue number.
func (s *Server) OpenIssue(repo, user, title, body string, labels ...string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, is, err := s.newIssueLocked(repo, user, title, body)
	if err != nil {
		return 0, err
	}
	for _, l := range labels {
		if !is.hasLabel(l) {
			is.labels = append(is.labels, s.labelForLocked(r, l).name)
		}
	}
	s.issuesEventLocked(r, is, "opened", user, nil)
	for _, l := range is.labels {
		s.labelEventLocked(r, is, "labeled", l, user)
	}
	return is.number, nil
}

// newIssueLocked opens an issue (or a pull request) in repo with the next number; no webhook.
func (s *Server) newIssueLocked(repo, user, title, body string) (*repo, *issue, error) {
	r, err := s.repoLocked(repo)
	if err != nil {
		return nil, nil, err
	}
	r.nextNumber++
	now := s.now()
	is := &issue{id: s.newIDLocked(), number: r.nextNumber, title: title, body: body,
		author: s.userLocked(user).login, assoc: s.associationLocked(r, user), state: "open",
		created: now, updated: now}
	r.issues[is.number] = is
	return r, is, nil
}

// onIssue runs f on an issue, under the server's lock.
func (s *Server) onIssue(repo string, number int, f func(r *repo, is *issue) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, is, err := s.issueLocked(repo, number)
	if err != nil {
		return err
	}
	return f(r, is)
}

// onComment runs f on a comment of a repository, under the server's lock.
func (s *Server) onComment(name string, commentID int64, f func(r *repo, is *issue, c *comment)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.repoLocked(name)
	if err != nil {
		return err
	}
	is, c := r.findComment(commentID)
	if c == nil {
		return fmt.Errorf("ghfake: no comment %d in %s", commentID, name)
	}
	f(r, is, c)
	return nil
}

// Comment comments on an issue as user and sends issue_comment.created. It returns the
// comment id.
func (s *Server) Comment(repo string, number int, user, body string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, is, err := s.issueLocked(repo, number)
	if err != nil {
		return 0, err
	}
	return s.createCommentLocked(r, is, user, body).id, nil
}

// EditComment changes a comment's body as user and sends issue_comment.edited with
// changes.body.from.
func (s *Server) EditComment(name string, commentID int64, user, body string) error {
	return s.onComment(name, commentID, func(r *repo, is *issue, c *comment) {
		s.editCommentLocked(r, is, c, user, body)
	})
}

// DeleteComment deletes a comment as user and sends issue_comment.deleted.
func (s *Server) DeleteComment(name string, commentID int64, user string) error {
	return s.onComment(name, commentID, func(r *repo, is *issue, c *comment) {
		is.comments = slices.DeleteFunc(is.comments, func(x *comment) bool { return x == c })
		s.touchLocked(is)
		s.commentEventLocked(r, is, c, "deleted", user, nil)
	})
}

// AddLabel adds a label (created in the repository when unknown) as user and sends
// issues.labeled. Adding a label already present does nothing, as on GitHub.
func (s *Server) AddLabel(name string, number int, user, label string) error {
	return s.onIssue(name, number, func(r *repo, is *issue) error {
		s.addLabelLocked(r, is, label, user)
		return nil
	})
}

// RemoveLabel removes a label as user and sends issues.unlabeled.
func (s *Server) RemoveLabel(name string, number int, user, label string) error {
	return s.onIssue(name, number, func(r *repo, is *issue) error {
		if !s.removeLabelLocked(r, is, label, user) {
			return fmt.Errorf("ghfake: %s#%d has no label %q", name, number, label)
		}
		return nil
	})
}

// Assign assigns assignee as user and sends issues.assigned.
func (s *Server) Assign(name string, number int, user, assignee string) error {
	return s.onIssue(name, number, func(r *repo, is *issue) error {
		s.assignLocked(r, is, assignee, user)
		return nil
	})
}

// Unassign removes assignee as user and sends issues.unassigned.
func (s *Server) Unassign(name string, number int, user, assignee string) error {
	return s.onIssue(name, number, func(r *repo, is *issue) error {
		s.unassignLocked(r, is, assignee, user)
		return nil
	})
}

// CloseIssue closes an issue as user with reason ("completed", "not_planned", "duplicate"; empty
// means completed) and sends issues.closed.
func (s *Server) CloseIssue(name string, number int, user, reason string) error {
	return s.onIssue(name, number, func(r *repo, is *issue) error {
		return s.setStateLocked(r, is, "closed", reason, user)
	})
}

// ReopenIssue reopens an issue as user and sends issues.reopened.
func (s *Server) ReopenIssue(name string, number int, user string) error {
	return s.onIssue(name, number, func(r *repo, is *issue) error {
		return s.setStateLocked(r, is, "open", "", user)
	})
}

// EditIssue changes an issue's title and body as user and sends issues.edited.
func (s *Server) EditIssue(name string, number int, user, title, body string) error {
	return s.onIssue(name, number, func(r *repo, is *issue) error {
		s.editIssueLocked(r, is, &title, &body, user)
		return nil
	})
}

var reactionContents = map[string]bool{"+1": true, "-1": true, "laugh": true, "confused": true,
	"heart": true, "hooray": true, "rocket": true, "eyes": true}

// React adds a reaction to a comment as user. GitHub sends no webhook for it.
func (s *Server) React(name string, commentID int64, user, content string) error {
	if !reactionContents[content] {
		return fmt.Errorf("ghfake: reaction %q is not valid", content)
	}
	return s.onComment(name, commentID, func(_ *repo, _ *issue, c *comment) { s.reactLocked(c, user, content) })
}

// ReactToIssue adds a reaction to an issue itself as user (counted in issue.reactions of later
// payloads). GitHub sends no webhook for it.
func (s *Server) ReactToIssue(name string, number int, user, content string) error {
	if !reactionContents[content] {
		return fmt.Errorf("ghfake: reaction %q is not valid", content)
	}
	return s.onIssue(name, number, func(_ *repo, is *issue) error {
		s.addReactionLocked(&is.reactions, user, content)
		return nil
	})
}

func (s *Server) reactLocked(c *comment, user, content string) (*reaction, bool) {
	return s.addReactionLocked(&c.reactions, user, content)
}

func (s *Server) addReactionLocked(list *[]*reaction, user, content string) (*reaction, bool) {
	for _, rc := range *list {
		if strings.EqualFold(rc.user, user) && rc.content == content {
			return rc, false
		}
	}
	rc := &reaction{id: s.newIDLocked(), user: s.userLocked(user).login, content: content, created: s.now()}
	*list = append(*list, rc)
	s.signalLocked()
	return rc, true
}

// SetPermission gives user a role on repo: "admin", "maintain", "write", "triage", "read" or
// "none" (removes the collaborator).
func (s *Server) SetPermission(repo, user, perm string) error {
	if perm != "none" && !slices.Contains(roles, perm) {
		return fmt.Errorf("ghfake: permission %q is not one of %v or none", perm, roles)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.repoLocked(repo)
	if err != nil {
		return err
	}
	s.userLocked(user)
	if perm == "none" {
		delete(r.perms, strings.ToLower(user))
	} else {
		r.perms[strings.ToLower(user)] = perm
	}
	s.signalLocked()
	return nil
}

// SetAuthorAssociation overrides the author_association GitHub reports for user on repo
// (otherwise OWNER for the owner, COLLABORATOR for triage and up, NONE).
func (s *Server) SetAuthorAssociation(repo, user, association string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.repoLocked(repo)
	if err != nil {
		return err
	}
	r.assoc[strings.ToLower(user)] = association
	return nil
}

// PutFile writes a file on the default branch and sends a push webhook touching that path,
// with the repository owner as pusher.
func (s *Server) PutFile(repo, path string, content []byte) error {
	path = strings.Trim(path, "/")
	if path == "" {
		return fmt.Errorf("ghfake: empty path")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.repoLocked(repo)
	if err != nil {
		return err
	}
	old, existed := r.files[path]
	f := &file{content: append([]byte(nil), content...), sha: blobSHA(content)}
	r.files[path] = f
	if existed && old.sha == f.sha {
		return nil
	}
	before := r.head
	r.head = fakeSHA(before + path + f.sha)
	commit := &github.HeadCommit{ID: ptr(r.head), TreeID: ptr(fakeSHA("tree" + r.head)), Distinct: ptr(true),
		Message: ptr("Update " + path), Timestamp: &github.Timestamp{Time: s.now()},
		URL:    ptr(r.htmlURL() + "/commit/" + r.head),
		Author: &github.CommitAuthor{Name: ptr(r.owner), Email: ptr(r.owner + "@users.noreply.github.com"), Login: ptr(r.owner)},
		Added:  []string{}, Removed: []string{}, Modified: []string{}}
	commit.Committer = commit.Author
	if existed {
		commit.Modified = []string{path}
	} else {
		commit.Added = []string{path}
	}
	pr := &github.PushEventRepository{ID: ptr(r.id), NodeID: ptr(nodeID("R", r.id)), Name: ptr(r.name),
		FullName: ptr(r.fullName()), Owner: s.ghUserLocked(r.owner), Private: ptr(false),
		DefaultBranch: ptr(r.defaultBranch), MasterBranch: ptr(r.defaultBranch),
		HTMLURL: ptr(r.htmlURL()), URL: ptr(r.htmlURL()), Fork: ptr(false), Archived: ptr(false), Disabled: ptr(false),
		HasIssues: ptr(true), CloneURL: ptr(r.htmlURL() + ".git"), GitURL: ptr("git://github.com/" + r.fullName() + ".git"),
		SSHURL: ptr("git@github.com:" + r.fullName() + ".git"), Size: ptr(0), StargazersCount: ptr(0),
		CreatedAt: &github.Timestamp{Time: r.created}, UpdatedAt: &github.Timestamp{Time: s.now()},
		PushedAt: &github.Timestamp{Time: s.now()}}
	ev := &github.PushEvent{Ref: ptr("refs/heads/" + r.defaultBranch), Before: ptr(before), After: ptr(r.head),
		Created: ptr(false), Deleted: ptr(false), Forced: ptr(false), Commits: []*github.HeadCommit{commit},
		HeadCommit: commit, Compare: ptr(r.htmlURL() + "/compare/" + before[:12] + "..." + r.head[:12]),
		Pusher: &github.CommitAuthor{Name: ptr(r.owner), Email: ptr(r.owner + "@users.noreply.github.com")},
		Repo:   pr, Sender: s.ghUserLocked(r.owner), Installation: s.ghInstallationLocked(r.installationID)}
	s.enqueueLocked("push", "", r.installationID, r.id, ev)
	return nil
}

// File returns the content of a file on the default branch.
func (s *Server) File(repo, path string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.repoLocked(repo)
	if err != nil {
		return nil, false
	}
	f, ok := r.files[strings.Trim(path, "/")]
	if !ok {
		return nil, false
	}
	return append([]byte(nil), f.content...), true
}

func wrapBase64(b []byte) string {
	enc := base64.StdEncoding.EncodeToString(b)
	var sb strings.Builder
	for len(enc) > 60 {
		sb.WriteString(enc[:60])
		sb.WriteByte('\n')
		enc = enc[60:]
	}
	sb.WriteString(enc)
	sb.WriteByte('\n')
	return sb.String()
}

// CreateLabel creates a repository label as a maintainer does in the web interface (GitHub
// sends the label webhook, which triagebot does not subscribe to: none is sent).
func (s *Server) CreateLabel(repo, name, color, description string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.repoLocked(repo)
	if err != nil {
		return err
	}
	if r.findLabel(name) != nil {
		return fmt.Errorf("ghfake: label %q already exists in %s", name, repo)
	}
	r.labels = append(r.labels, &label{id: s.newIDLocked(), name: name, color: color, description: description})
	s.signalLocked()
	return nil
}
