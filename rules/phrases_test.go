package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBuiltinHostile shows both sides of the built-in list: plain insults and hostility are
// caught; ordinary technical language, criticism of code and self-deprecation are not.
func TestBuiltinHostile(t *testing.T) {
	for _, tt := range hostileExamples {
		t.Run(tt.give, func(t *testing.T) {
			got := builtinHostile(cleanText(tt.give))
			if (got != "") != tt.want {
				t.Errorf("builtinHostile(%q) = %q, want hostile: %v", tt.give, got, tt.want)
			}
		})
	}
}

// Each phrase skips a text that has none of its words: that must never skip a text its
// expression matches. Checked over every example here, every webhook payload and every golden
// comment in testdata.
func TestHostileWordsNeverSkipAMatch(t *testing.T) {
	texts := []string{}
	for _, tt := range hostileExamples {
		texts = append(texts, cleanText(tt.give))
	}
	var files []string
	for _, glob := range []string{"../testdata/webhooks/*/*.json", "testdata/golden/*.md"} {
		found, err := filepath.Glob(glob)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, found...)
	}
	if len(files) < 10 {
		t.Fatalf("only %d testdata files found", len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, cleanText(string(b)))
	}
	for _, text := range texts {
		if benignPhrases.MatchString(text) && !containsAnyOf(text, benignWords) {
			t.Errorf("benign phrases: %q matches but has none of %q", text, benignWords)
		}
	}
	for _, p := range hostilePhrases {
		for _, text := range texts {
			if p.re.MatchString(text) && !containsAnyOf(text, p.any) {
				t.Errorf("%s: %q matches %s but has none of %q", p.name, text, p.re, p.any)
			}
		}
	}
}

func BenchmarkBuiltinHostile(b *testing.B) {
	text := cleanText(strings.Repeat("It looks like you accidentally spelled 'commit' with two 't's. The config loader reads the file twice when the cache is cold; here is the trace. ", 8))
	for b.Loop() {
		if builtinHostile(text) != "" {
			b.Fatal("a plain report was taken for hostile")
		}
	}
}

var hostileExamples = []struct {
	give string
	want bool
}{
	// Caught.
	{give: "You are an idiot.", want: true},
	{give: "you're such a complete moron", want: true},
	{give: "You absolute clown, read the docs", want: true},
	{give: "u r retarded", want: true},
	{give: "Are you stupid? It says so right there.", want: true},
	{give: "Which idiot wrote this code?", want: true},
	{give: "The maintainers are incompetent clowns", want: true},
	{give: "you guys are a joke", want: true},
	{give: "You suck.", want: true},
	{give: "Fuck you and your project", want: true},
	{give: "fuck off", want: true},
	{give: "Just go fuck yourself", want: true},
	{give: "stfu", want: true},
	{give: "Shut up.", want: true},
	{give: "oh just shut up already", want: true},
	{give: "I will find where you are and I'll kill you", want: true},
	{give: "kill yourself", want: true},
	{give: "go die in a fire", want: true},
	{give: "I hope you die", want: true},
	{give: "What a dumbass", want: true},
	{give: "YOU’RE USELESS", want: true},
	{give: "Piss off", want: true},
	{give: "go to hell", want: true},
	// Not caught.
	{give: "kill the process and restart it"},
	{give: "Run kill -9 on the worker"},
	{give: "The OOM killer killed the child process"},
	{give: "I'll kill the container and retry"},
	{give: "I'll kill them all: the zombie processes, I mean"},
	{give: "this is a dumb terminal, no colours"},
	{give: "abort"},
	{give: "The job aborts when I execute the script"},
	{give: "execute the migration first"},
	{give: "Let the goroutine die when the context is cancelled"},
	{give: "the process should just die on SIGTERM"},
	{give: "We need a kill switch"},
	{give: "This makes the linter shut up"},
	{give: "use `//nolint` to shut up the warning"},
	{give: "an idiot-proof default would help"},
	{give: "I'm an idiot, I forgot to set the flag. Sorry!"},
	{give: "This hack is stupid, but it works"},
	{give: "You are right, thanks!"},
	{give: "Are you sure this is the right flag?"},
	{give: "you're using the wrong config key"},
	{give: "You are stupidly fast at this"},
	{give: "data can get lost on a crash"},
	{give: "The parent process kills its children on exit"},
	{give: "Fatal error: the master process died"},
	{give: "the fire retardant model"},
	{give: "Thank you! You saved my day"},
	// Code and quotes are not the writer's own speech.
	{give: "My test prints:\n```\nyou are an idiot\n```\nwhich is the fixture text."},
	{give: "> you are an idiot\n\nPlease don't talk to people like this."},
	{give: "The string `fuck you` is in the spam filter list"},
}
