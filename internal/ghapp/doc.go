// Package ghapp is the bot's access to GitHub (DESIGN.md §6): App and installation clients
// (ghinstallation, one cached client per installation over one shared transport), a transport
// that respects GitHub's primary and secondary rate limits, conditional reads, repository
// configuration loading, the rules' Lookup, and the executor that turns rules.Actions into
// REST calls idempotently.
package ghapp
