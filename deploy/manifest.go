// Package deploy holds the deployment files; Go code reads the GitHub App manifest from here.
package deploy

import _ "embed"

// AppManifest is github-app-manifest.json: the App's permissions and events, which
// 'triagebot setup' fills in with the webhook and redirect URLs and posts to GitHub.
//
//go:embed github-app-manifest.json
var AppManifest []byte
