package ghfake_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"

	"github.com/triagebot/triagebot/internal/ghfake"
)

// The fake as a GitHub Enterprise Server, driven by the App's own credentials, with webhooks
// going to a receiver started after it.
func Example() {
	fake := ghfake.New(ghfake.WithPrefix("/api/v3/"), ghfake.WithInstallation(7, "octo", "octo/hello"))
	defer fake.Close()
	api := httptest.NewServer(fake)
	defer api.Close()

	events := make(chan string, 10)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		events <- r.Header.Get("X-GitHub-Event")
		w.WriteHeader(http.StatusAccepted)
	}))
	defer receiver.Close()
	fake.SetWebhook(receiver.URL, "secret")

	number, _ := fake.OpenIssue("octo/hello", "alice", "Crash on start", "It crashes.")

	tr, _ := ghinstallation.New(http.DefaultTransport, fake.AppID(), 7, fake.PrivateKeyPEM())
	tr.BaseURL = api.URL + "/api/v3"
	gh, _ := github.NewClient(&http.Client{Transport: tr}).WithEnterpriseURLs(api.URL+"/api/v3/", api.URL+"/api/v3/")
	ctx := context.Background()
	_, _, _ = gh.Issues.AddLabelsToIssue(ctx, "octo", "hello", number, []string{"needs-triage"})

	_ = fake.Flush(ctx)
	issue, _ := fake.Issue("octo/hello", number)
	fmt.Println(issue.Labels, <-events, <-events)
	for _, d := range fake.Deliveries() {
		fmt.Println(d.Event, d.Action, d.StatusCode)
	}
	fmt.Println(fake.BotLogin(), fake.RequestStats().Writes) // the token and the labels
	// Output:
	// [needs-triage] issues issues
	// issues opened 202
	// issues labeled 202
	// triagebot[bot] 2
}
