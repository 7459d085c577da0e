package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"
)

// This file renders the command definitions as completion scripts and man
// pages (cmd_generate.go).

// completionCase is what a shell completes after one command path.
type completionCase struct {
	path  string   // "key add"
	words []string // its flags and subcommands
}

// completionCases lists every command path, longest first (so that "key
// add" matches before "key"), with the words it completes, and the top
// level's words: the commands and the global flags.
func completionCases(app *cli.App) (cases []completionCase, top []string) {
	cmds := allCommands(app.Commands, nil)
	sort.SliceStable(cmds, func(i, j int) bool { return len(cmds[i].words) > len(cmds[j].words) })
	for _, cp := range cmds {
		words := flagWords(cp.cmd.Flags)
		for _, sub := range cp.cmd.Subcommands {
			words = append(words, sub.Name)
		}
		cases = append(cases, completionCase{path: strings.Join(cp.words, " "), words: words})
	}
	for _, c := range app.VisibleCommands() {
		top = append(top, c.Name)
	}
	return cases, append(top, flagWords(app.Flags)...)
}

func bashCompletion(app *cli.App) string {
	var b strings.Builder
	b.WriteString("# bash completion for strata, written by `strata generate --completion bash`\n")
	b.WriteString("_strata() {\n\tlocal cur words cmd i\n\tcur=\"${COMP_WORDS[COMP_CWORD]}\"\n\tcmd=\"\"\n")
	b.WriteString("\tfor ((i = 1; i < COMP_CWORD; i++)); do\n\t\tcase \"${COMP_WORDS[i]}\" in -*) ;; *) cmd=\"${cmd:+$cmd }${COMP_WORDS[i]}\" ;; esac\n\tdone\n")
	b.WriteString("\tcase \"$cmd\" in\n")
	cases, top := completionCases(app)
	for _, cc := range cases {
		fmt.Fprintf(&b, "\t\"%s\"*) words=%q ;;\n", cc.path, strings.Join(cc.words, " "))
	}
	fmt.Fprintf(&b, "\t*) words=%q ;;\n\tesac\n", strings.Join(top, " "))
	b.WriteString("\tif [[ \"$cur\" == -* || \"$words\" == *[a-z]* ]]; then\n\t\tCOMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n\tfi\n")
	b.WriteString("\t[[ ${#COMPREPLY[@]} -eq 0 ]] && COMPREPLY=($(compgen -f -- \"$cur\"))\n\treturn 0\n}\ncomplete -o filenames -F _strata strata\n")
	return b.String()
}

func zshCompletion(app *cli.App) string {
	var b strings.Builder
	b.WriteString("#compdef strata\n# zsh completion for strata, written by `strata generate --completion zsh`\n")
	b.WriteString("_strata() {\n\tlocal -a words_ cmd\n\tlocal w\n\tcmd=()\n")
	b.WriteString("\tfor w in ${words[2,CURRENT-1]}; do [[ $w == -* ]] || cmd+=($w); done\n")
	b.WriteString("\tcase \"${cmd[*]}\" in\n")
	cases, top := completionCases(app)
	for _, cc := range cases {
		fmt.Fprintf(&b, "\t\"%s\"*) words_=(%s) ;;\n", cc.path, strings.Join(cc.words, " "))
	}
	fmt.Fprintf(&b, "\t*) words_=(%s) ;;\n\tesac\n", strings.Join(top, " "))
	b.WriteString("\tcompadd -a words_\n\t_files\n}\ncompdef _strata strata\n")
	return b.String()
}

func fishCompletion(app *cli.App) string {
	var b strings.Builder
	b.WriteString("# fish completion for strata, written by `strata generate --completion fish`\n")
	var top []string
	for _, c := range app.VisibleCommands() {
		top = append(top, c.Name)
	}
	fmt.Fprintf(&b, "complete -c strata -n '__fish_use_subcommand' -f -a %q\n", strings.Join(top, " "))
	for _, f := range app.Flags {
		b.WriteString(fishFlag("", f))
	}
	for _, cp := range allCommands(app.Commands, nil) {
		cond := "__fish_seen_subcommand_from " + cp.words[len(cp.words)-1]
		for _, sub := range cp.cmd.Subcommands {
			fmt.Fprintf(&b, "complete -c strata -n '%s' -f -a %s -d %s\n", cond, sub.Name, fishQuote(sub.Usage))
		}
		for _, f := range cp.cmd.Flags {
			b.WriteString(fishFlag(cond, f))
		}
	}
	return b.String()
}

func fishFlag(cond string, f cli.Flag) string {
	var b strings.Builder
	b.WriteString("complete -c strata")
	if cond != "" {
		fmt.Fprintf(&b, " -n '%s'", cond)
	}
	for _, n := range f.Names() {
		if len(n) == 1 {
			fmt.Fprintf(&b, " -s %s", n)
		} else {
			fmt.Fprintf(&b, " -l %s", n)
		}
	}
	if d, ok := f.(cli.DocGenerationFlag); ok {
		if d.TakesValue() {
			b.WriteString(" -r")
		}
		fmt.Fprintf(&b, " -d %s", fishQuote(d.GetUsage()))
	}
	b.WriteString("\n")
	return b.String()
}

func fishQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }

// manPage renders the page of cp, or of strata itself when cp is nil.
func manPage(app *cli.App, cp *commandPath) string {
	name, usage, desc, args := "strata", app.Usage, "", "COMMAND [OPTIONS] [ARGUMENTS]"
	flags := app.Flags
	var subs []*cli.Command = app.VisibleCommands()
	if cp != nil {
		name = "strata-" + strings.Join(cp.words, "-")
		usage, desc, args, flags, subs = cp.cmd.Usage, cp.cmd.Description, cp.cmd.ArgsUsage, cp.cmd.Flags, cp.cmd.Subcommands
	}
	var b strings.Builder
	fmt.Fprintf(&b, ".TH %s 1 \"\" \"strata %s\" \"strata manual\"\n", roff(strings.ToUpper(name)), roff(version))
	fmt.Fprintf(&b, ".SH NAME\n%s \\- %s\n", roff(name), roff(usage))
	call := "strata"
	if cp != nil {
		call += " " + strings.Join(cp.words, " ")
	}
	fmt.Fprintf(&b, ".SH SYNOPSIS\n\\fB%s\\fP [OPTIONS] %s\n", roff(call), roff(args))
	if desc != "" {
		b.WriteString(".SH DESCRIPTION\n")
		for _, para := range strings.Split(strings.TrimSpace(desc), "\n\n") {
			fmt.Fprintf(&b, ".PP\n%s\n", roff(para))
		}
	}
	if len(subs) > 0 {
		b.WriteString(".SH COMMANDS\n")
		for _, s := range subs {
			fmt.Fprintf(&b, ".TP\n\\fB%s\\fP\n%s\n", roff(s.Name), roff(s.Usage))
		}
	}
	if len(flags) > 0 {
		b.WriteString(".SH OPTIONS\n")
		for _, f := range flags {
			words := flagWords([]cli.Flag{f})
			head := "\\fB" + roff(strings.Join(words, ", ")) + "\\fP"
			text := ""
			if d, ok := f.(cli.DocGenerationFlag); ok {
				text = d.GetUsage()
				if d.TakesValue() {
					head += " \\fIVALUE\\fP"
				}
			}
			fmt.Fprintf(&b, ".TP\n%s\n%s\n", head, roff(text))
		}
	}
	b.WriteString(".SH SEE ALSO\n")
	if cp == nil {
		var see []string
		for _, c := range allCommands(app.Commands, nil) {
			see = append(see, "\\fBstrata-"+roff(strings.Join(c.words, "-"))+"\\fP(1)")
		}
		b.WriteString(strings.Join(see, ", ") + "\n")
	} else {
		b.WriteString("\\fBstrata\\fP(1)\n")
	}
	return b.String()
}

// roff escapes text for a man page: backslashes, and a leading dot or
// quote that roff would take for a request.
func roff(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			lines[i] = `\&` + l
		}
	}
	return strings.Join(lines, "\n")
}
