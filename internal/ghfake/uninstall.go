package ghfake

import (
	"fmt"
	"sort"

	"github.com/google/go-github/v60/github"
)

// RemoveRepository takes repo out of an installation and sends installation_repositories.removed.
func (s *Server) RemoveRepository(installationID int64, repo string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.installs[installationID]
	if !ok {
		return fmt.Errorf("ghfake: no installation %d", installationID)
	}
	r, err := s.repoLocked(repo)
	if err != nil {
		return err
	}
	delete(in.repos, r.id)
	r.installationID = 0
	ev := &github.InstallationRepositoriesEvent{Action: ptr("removed"), RepositorySelection: ptr("selected"),
		Sender: s.ghUserLocked(in.account), Installation: s.ghFullInstallationLocked(in),
		RepositoriesAdded:   []*github.Repository{},
		RepositoriesRemoved: []*github.Repository{s.ghRepoRefLocked(r)}}
	s.enqueueLocked("installation_repositories", "removed", in.id, 0, ev)
	return nil
}

// Uninstall removes the App's installation and sends installation.deleted with its repositories.
func (s *Server) Uninstall(installationID int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.installs[installationID]
	if !ok {
		return fmt.Errorf("ghfake: no installation %d", installationID)
	}
	ev := &github.InstallationEvent{Action: ptr("deleted"), Sender: s.ghUserLocked(in.account),
		Installation: s.ghFullInstallationLocked(in)}
	ids := make([]int64, 0, len(in.repos))
	for id := range in.repos {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		for _, r := range s.repos {
			if r.id == id {
				ev.Repositories = append(ev.Repositories, s.ghRepoRefLocked(r))
				r.installationID = 0
			}
		}
	}
	s.enqueueLocked("installation", "deleted", in.id, 0, ev)
	in.repos = map[int64]bool{}
	return nil
}

func (s *Server) ghRepoRefLocked(r *repo) *github.Repository {
	return &github.Repository{ID: ptr(r.id), NodeID: ptr(nodeID("R", r.id)), Name: ptr(r.name), FullName: ptr(r.fullName()), Private: ptr(false)}
}
