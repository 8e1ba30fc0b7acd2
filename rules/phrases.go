package rules

import (
	"regexp"
	"slices"
	"strings"
)

// hostilePhrase is one entry of the built-in list: what it catches, in words a maintainer reads
// in the reason, and the expression, matched on cleaned text (see cleanText).
type hostilePhrase struct {
	name string
	re   *regexp.Regexp
	// any are words of which every match of re contains one: a text with none of them is not
	// run through re (a substring search is much cheaper than the expression, and most
	// comments contain none of them).
	any []string
}

// The built-in list is deliberately small and aimed at people: insults addressed to someone,
// profanity at someone, threats and slurs. Technical language ("kill the process", "a dumb
// terminal", "abort", "execute", "the child dies") and self-deprecation ("I'm an idiot, I forgot
// the flag") must not match; phrases_test.go holds both sides. These are constants: compiled
// once, never changed.
const (
	insultWords = `(?:idiots?|morons?|imbeciles?|retards?|retarded|stupid|dumb|dumbass|clowns?|losers?|useless|worthless|pathetic|incompetent|clueless|brain-?dead|fools?|jerks?|assholes?|dickheads?|pieces? of (?:shit|crap|garbage|trash))`
	intensifier = `(?:(?:such|so|an?|the|complete|total|absolute|fucking|fuckin|utter|bloody|damn|little|real|really|all|just|bunch of)\s+)*`
)

// insultTriggers are words of which every match of insultWords contains one.
var insultTriggers = []string{"idiot", "moron", "imbecil", "retard", "stupid", "dumb", "clown", "loser", "useless",
	"worthless", "pathetic", "incompetent", "clueless", "brain", "fool", "jerk", "asshole", "dickhead", "piece"}

var (
	hostilePhrases = []hostilePhrase{
		{"insult addressed to someone", regexp.MustCompile(
			`\b(?:you|u|you're|youre|you are|u r|ur)\s+` + intensifier + insultWords + `\b`), insultTriggers},
		{"insult addressed to the project's people", regexp.MustCompile(
			`\b(?:maintainers?|devs|developers|dev team|you guys|you people|you lot|y'?all|you all|this team)\s+(?:are|r)\s+` + intensifier +
				`(?:idiots|morons|imbeciles|retards|retarded|stupid|dumb|clowns|losers|useless|worthless|pathetic|incompetent|clueless|a joke|fools|assholes|a disgrace)\b`), slices.Concat(insultTriggers, []string{"joke", "disgrace"})},
		{"insult addressed to someone", regexp.MustCompile(
			`\bare (?:you|u) (?:(?:really|just|fucking|that|so)\s+)*(?:stupid|dumb|retarded|an idiot|a moron|an imbecile|blind|illiterate|incompetent)\b`), []string{"stupid", "dumb", "retard", "idiot", "moron", "imbecil", "blind", "illiterate", "incompetent"}},
		{"insult addressed to someone", regexp.MustCompile(
			`\b(?:what|which|some)\s+(?:kind of\s+|sort of\s+)?(?:idiot|moron|imbecile|clown|retard)s?\b`), []string{"idiot", "moron", "imbecil", "clown", "retard"}},
		{"insult addressed to someone", regexp.MustCompile(`\b(?:you|u)\s+(?:all\s+|guys\s+|really\s+|fucking\s+)?suck\b`), []string{"suck"}},
		{"slur or strong insult", regexp.MustCompile(
			`\b(?:retards?|retarded|dumbass(?:es)?|dipshits?|shitheads?|assholes?|dickheads?|motherfuckers?|cunts?)\b`), []string{"retard", "dumbass", "dipshit", "shithead", "asshole", "dickhead", "fucker", "cunt"}},
		{"profanity aimed at someone", regexp.MustCompile(
			`\b(?:fuck|f\*+k|fck|screw|damn)\s+(?:you|u|off|yourself|yourselves|all of you|the maintainers?|the devs|the developers)\b`), []string{"fuck", "f*", "fck", "screw", "damn"}},
		{"profanity aimed at someone", regexp.MustCompile(`\b(?:go\s+(?:fuck|screw)\s+(?:yourself|yourselves|off)|(?:piss|bugger|sod)\s+off|stfu|gtfo)\b`), []string{"fuck", "screw", "off", "stfu", "gtfo"}},
		{"telling someone to shut up", regexp.MustCompile(
			`(?:^|[.!?]\s*|\b(?:just|please|you|now|oh|so)\s+)shut\s+(?:the\s+(?:fuck|hell)\s+)?up\b|\bshut\s+your\s+(?:mouth|face|trap)\b`), []string{"shut"}},
		{"threat", regexp.MustCompile(
			`\b(?:i'll|i will|i'm going to|i am going to|i'm gonna|i am gonna|i gonna|we'll|we will)\s+(?:\w+\s+)?(?:kill|murder|hurt|beat|punch|stab|shoot)\s+(?:you|u|y'?all)\b|\bi know where (?:you|u) live\b`), []string{"kill", "murder", "hurt", "beat", "punch", "stab", "shoot", "know where"}},
		{"telling someone to harm themselves", regexp.MustCompile(
			`\b(?:kill|hang|shoot)\s+(?:yo)?urself\b|\bkill\s+yourselves\b|\bkys\b|\b(?:go|hope (?:you|u)|(?:you|u) should|(?:you|u) deserve to|(?:you|u) can go)\s+die\b|\bdie in a (?:fire|hole|ditch)\b|\b(?:go to|rot in) hell\b`), []string{"kill", "hang", "shoot", "kys", "die", "hell"}},
	}

	// benignPhrases are removed before matching: technical phrases that contain a listed word.
	benignPhrases = regexp.MustCompile(
		`\b(?:idiot|fool)[- ]?proof\b|\bdumb[- ]?founded\b|\bshut\s+up\s+(?:the|this|that|a|an|all|any|these|those|some|its|it|them|warnings?|errors?|linters?|compilers?|logs?|output|vet|clippy)\b`)

	// benignWords: every match of benignPhrases contains one of them.
	benignWords = []string{"proof", "founded", "shut"}

	fencedCode  = regexp.MustCompile("(?s)(?:```.*?(?:```|$))|(?:~~~.*?(?:~~~|$))")
	inlineCode  = regexp.MustCompile("`[^`\n]*`")
	htmlComment = regexp.MustCompile(`(?s)<!--.*?(?:-->|$)`)
	quoteLine   = regexp.MustCompile(`(?m)^[ \t]*>.*$`)
	spaces      = regexp.MustCompile(`\s+`)
)

// cleanText is what the conduct rule reads of a text: what the person wrote themselves, in lower
// case with plain apostrophes and single spaces. Code and quotes are left out: code is not
// speech, and quoting a hostile comment to report it is not hostile.
func cleanText(s string) string {
	s = fencedCode.ReplaceAllString(s, " ")
	s = htmlComment.ReplaceAllString(s, " ")
	s = inlineCode.ReplaceAllString(s, " ")
	s = quoteLine.ReplaceAllString(s, " ")
	s = strings.NewReplacer("\u2019", "'", "\u2018", "'", "\u02bc", "'").Replace(strings.ToLower(s))
	s = spaces.ReplaceAllString(s, " ")
	return strings.TrimSpace(s)
}

// builtinHostile names the first built-in phrase the cleaned text matches, or "".
func builtinHostile(clean string) string {
	if containsAnyOf(clean, benignWords) {
		clean = benignPhrases.ReplaceAllString(clean, " ")
	}
	for _, p := range hostilePhrases {
		if containsAnyOf(clean, p.any) && p.re.MatchString(clean) {
			return p.name
		}
	}
	return ""
}

func containsAnyOf(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}
