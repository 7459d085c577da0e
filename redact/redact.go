package redact

import (
	"regexp"
	"strings"
)

// Mask replaces every secret value.
const Mask = "***"

var (
	// secretName matches a flag, variable or parameter name that carries a
	// secret.
	secretName = regexp.MustCompile(`(?i)pass|pwd|secret|token|key|auth|credential`)
	// flagWithValue is -name=value or --name=value.
	flagWithValue = regexp.MustCompile(`^(--?)([A-Za-z0-9][\w.-]*)=(.*)$`)
	// bareFlag is -name or --name, whose value may be the next argument.
	bareFlag = regexp.MustCompile(`^--?([A-Za-z0-9][\w.-]*)$`)
	// assignment is NAME=value, as in `env DB_PASSWORD=x cmd`.
	assignment = regexp.MustCompile(`^([A-Za-z_][\w.]*)=(.*)$`)
	// urlScheme starts a URL; its user info runs to the last @ before the
	// next space or quote, since a password may hold / and @.
	urlScheme = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://`)
	// goMySQLDSN is the Go MySQL driver's user:password@tcp(host)/db.
	goMySQLDSN = regexp.MustCompile(`(^|[\s"'=])([^\s:@/"'=]+):(\S*)@(tcp|unix|udp)\(`)
	// keyValue is name=value inside a key=value DSN or a URL query
	// ("host=h password=x", "?sslpassword=x&..."), with optional spaces
	// around = and a quoted value.
	keyValue = regexp.MustCompile(`(?i)([\w.-]*(?:pass|pwd|secret|token|key|auth|credential)[\w.-]*)(\s*=\s*)('[^']*'|"[^"]*"|[^\s&;,'"]+)`)
	// header is an HTTP header that carries a secret: "Authorization:
	// Bearer x", "X-Api-Key: x".
	header = regexp.MustCompile(`(?im)(^|["'\s])(cookie|[\w-]*(?:pass|secret|token|key|auth|credential)[\w-]*)(\s*:\s*)([^"'\n]+)`)
	// jsonField is a secret field of JSON or a Python dict, as in
	// curl -d '{"password":"x"}'.
	jsonField = regexp.MustCompile(`(?i)(["'][\w.-]*(?:pass|pwd|secret|token|key|auth|credential)[\w.-]*["']\s*:\s*)("(?:[^"\\]|\\.)*"|'[^']*'|[^\s,}]+)`)
	// userFlag is curl's -u/--user, whose value is user:password (a user
	// alone, as mysql's -u, has no colon and stays).
	userFlag = regexp.MustCompile(`^(-u|--user)$`)
	space    = regexp.MustCompile(`\S+`)
)

// IsSecretName reports whether a flag, variable or parameter called name
// carries a secret.
func IsSecretName(name string) bool { return secretName.MatchString(name) }

// Command joins args into one line for a record, with every secret
// masked. An argument that holds a space (or is empty) is single-quoted
// as a shell would take it, so that the line keeps its arguments apart:
// masked again as free text (String), a header secret ("Authorization:
// ***") then ends at its quote instead of swallowing the arguments after
// it.
func Command(args []string) string {
	out := Args(args)
	for i, a := range out {
		if a == "" || strings.ContainsAny(a, " \t\n\r") {
			out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(out, " ")
}

// Args returns a copy of args with every secret masked: values of secret
// flags (--password=x, --token x, and the short flags of the tool they
// belong to: mysql -pX, redis-cli -a x), secret assignments
// (DB_PASSWORD=x), URL passwords, and secrets inside an argument that is
// itself a command line or DSN (sh -c "...", "host=h password=x").
func Args(args []string) []string {
	out := make([]string, len(args))
	tool := ""
	command := true // args[i] may name the command that the flags after it belong to
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch name := toolName(a); {
		case command && strings.HasPrefix(a, "-"):
			command = false
		case command && !assignment.MatchString(a):
			tool, command = name, false
		case knownTool(name):
			tool = name
		}
		out[i] = arg(a, tool)
		if separator(a) {
			command = true
			continue
		}
		if i+1 == len(args) {
			continue
		}
		// --password x: the value is the next argument. A boolean flag
		// with a secret-sounding name loses its next argument to the
		// mask too; better that than a password in the record. The same
		// for a tool's secret short flag: redis-cli -a x, sqlcmd -P x,
		// and -p and -t of a tool not in the table (mysql's -p takes no
		// value, so its next argument, the database, is masked too).
		m := bareFlag.FindStringSubmatch(a)
		long := m != nil && len(m[1]) > 1 && IsSecretName(m[1])
		if (long || len(a) == 2 && secretShort(a, tool)) && !strings.HasPrefix(args[i+1], "--") {
			i++
			out[i] = Mask + shellEnd(args[i])
			command = separator(args[i])
			continue
		}
		switch {
		case userFlag.MatchString(a):
			i++
			out[i] = userPassword(args[i])
		case sambaTools[tool] && (a == "-U" || a == "--user"):
			i++
			out[i] = sambaUser(args[i])
		}
	}
	return out
}

// arg masks the secrets of one argument of tool.
func arg(a, tool string) string {
	if m := flagWithValue.FindStringSubmatch(a); m != nil {
		switch {
		case IsSecretName(m[2]):
			return m[1] + m[2] + "=" + Mask + shellEnd(m[3])
		case m[1]+m[2] == "--user" && sambaTools[tool]:
			return "--user=" + sambaUser(m[3])
		case m[1]+m[2] == "--user":
			return "--user=" + userPassword(m[3])
		}
		return m[1] + m[2] + "=" + String(m[3])
	}
	// -pSECRET, -aSECRET: a secret short flag with its value attached.
	if len(a) > 2 && secretShort(a, tool) {
		return a[:2] + Mask
	}
	// -uUSER:PASSWORD: curl's user and password with no space.
	if len(a) > 2 && a[0] == '-' && a[1] == 'u' {
		return "-u" + userPassword(a[2:])
	}
	if len(a) > 2 && a[0] == '-' && a[1] == 'U' && sambaTools[tool] {
		return "-U" + sambaUser(a[2:])
	}
	if m := oracleLogin.FindStringSubmatch(a); m != nil && oracleTools[tool] && !strings.Contains(a, "://") {
		return m[1] + "/" + Mask + m[3]
	}
	// NAME=value, one word; an assignment followed by more words
	// ("PGPASSWORD=x psql ...", an sh -c script) is a command line.
	if m := assignment.FindStringSubmatch(a); m != nil && !strings.ContainsAny(m[2], " \t\n\r") {
		if IsSecretName(m[1]) {
			return m[1] + "=" + Mask + shellEnd(m[2])
		}
		return m[1] + "=" + String(m[2])
	}
	return String(a)
}

// String masks the secrets in free text: URL passwords, key=value and
// header secrets, and, when s holds several words (a shell command, a
// key=value DSN), the secret flags among them.
func String(s string) string {
	s = URL(s)
	s = goMySQLDSN.ReplaceAllString(s, "$1$2:"+Mask+"@$4(")
	s = keyValue.ReplaceAllString(s, "$1$2"+Mask)
	s = header.ReplaceAllString(s, "$1$2$3"+Mask)
	s = jsonField.ReplaceAllString(s, `$1"`+Mask+`"`)
	if !strings.ContainsAny(s, " \t\n\r") {
		return s
	}
	// A whole quoted string ('mysql -p"x" db' inside sh -c "..."): its
	// inside, quoted again.
	if q := s[0]; len(s) > 1 && (q == '\'' || q == '"') && s[len(s)-1] == q && !strings.ContainsRune(s[1:len(s)-1], rune(q)) {
		return string(q) + String(s[1:len(s)-1]) + string(q)
	}
	// Several words: mask them as the arguments of a command, in place,
	// keeping the text between them. A word runs to the next space that
	// is not quoted, so --password='a b' is one word, whose value is
	// masked whole; one word that is all of s is split at every space
	// instead, lest it be masked as itself again.
	locs := shellWords(s)
	if len(locs) == 1 {
		locs = space.FindAllStringIndex(s, -1)
	}
	words := make([]string, len(locs))
	for i, l := range locs {
		words[i] = s[l[0]:l[1]]
	}
	masked := Args(words)
	var b strings.Builder
	prev := 0
	for i, l := range locs {
		b.WriteString(s[prev:l[0]])
		b.WriteString(masked[i])
		prev = l[1]
	}
	b.WriteString(s[prev:])
	return b.String()
}

// shellWords returns where the words of a shell line start and end: a
// word runs to the next space outside single or double quotes (an
// unclosed quote runs to the end).
func shellWords(s string) [][]int {
	var locs [][]int
	start := -1
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if start >= 0 {
				locs = append(locs, []int{start, i})
				start = -1
			}
			continue
		case c == '\'' || c == '"':
			quote = c
		}
		if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		locs = append(locs, []int{start, len(s)})
	}
	return locs
}

// shellEnd returns the semicolon that ends a command at the end of a
// word of a shell line (X=1; cmd), which a masked value keeps.
func shellEnd(v string) string {
	return v[len(strings.TrimRight(v, ";")):]
}

// sambaUser masks the password of Samba's user%password, keeping the
// user.
func sambaUser(v string) string {
	if user, _, ok := strings.Cut(v, "%"); ok {
		return user + "%" + Mask
	}
	return String(v)
}

// userPassword masks the password of curl's user:password, keeping the
// user.
func userPassword(v string) string {
	if strings.Contains(v, "://") {
		return URL(v) // redis-cli -u redis://user:password@host
	}
	if user, _, ok := strings.Cut(v, ":"); ok {
		return user + ":" + Mask
	}
	return String(v)
}

// URL masks the password of every URL in s (scheme://user:password@host),
// keeping the user name. The user info runs to the last @ before the next
// space or quote, so a password holding / or @ is masked whole; a URL
// whose path holds an @ after a colon loses a little more than its
// password.
func URL(s string) string {
	var b strings.Builder
	for {
		loc := urlScheme.FindStringIndex(s)
		if loc == nil {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:loc[1]])
		s = s[loc[1]:]
		end := strings.IndexAny(s, " \t\n\r\"'")
		if end < 0 {
			end = len(s)
		}
		at := strings.LastIndex(s[:end], "@")
		if at < 0 {
			continue
		}
		user, _, hasPassword := strings.Cut(s[:at], ":")
		if !hasPassword || strings.Contains(user, "/") {
			// No password; or a path (sqlite:///srv/a:b@c.db), since a
			// user name holds no unescaped /.
			continue
		}
		b.WriteString(user + ":" + Mask)
		s = s[at:]
	}
}
