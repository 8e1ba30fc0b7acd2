package command

import "strings"

// AddedCommands returns the commands of an edited comment that the edit
// added: those of newBody, minus one occurrence of each command already in
// oldBody (a multiset difference), so editing a typo elsewhere in a comment
// never runs its commands again, and a command typed a second time runs once
// more. Commands are the same when they parse to the same name and
// arguments (so "/label  bug" is "/label bug"); commands with an error are the
// same when their Raw lines are. The result keeps newBody's order and line
// numbers.
func AddedCommands(oldBody, newBody string) []Command {
	seen := make(map[string]int)
	for _, c := range Parse(oldBody) {
		seen[key(c)]++
	}
	var added []Command
	for _, c := range Parse(newBody) {
		k := key(c)
		if seen[k] > 0 {
			seen[k]--
			continue
		}
		added = append(added, c)
	}
	return added
}

func key(c Command) string {
	if c.Err != nil {
		return "!" + c.Raw
	}
	return c.Name + "\x00" + strings.Join(c.Args, "\x00")
}
