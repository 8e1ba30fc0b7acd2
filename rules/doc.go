// Package rules decides what the bot does. Everything here is a pure function of a GitHub event
// (go-github's payload types), the repository configuration and the bot's memory of the issue:
// no network, no clock, no globals. That is what makes every decision replayable, explainable
// and testable from payload files alone.
package rules
