// Package redact masks secrets in command lines and connection strings
// before they are recorded anywhere: a snapshot's metadata (the command
// a guard snapshot protected, the source DSN), logs and error messages.
//
// It is a leaf package: it knows nothing of repositories or databases,
// only of the usual ways a secret is written on a command line.
//
// Words: a secret name is a flag, variable or parameter name containing
// pass, pwd, secret, token, key, auth or credential (any case); the mask
// is "***", which replaces a secret value and nothing else, so the record
// still shows which flag carried it. User info in a URL
// (scheme://user:password@host) keeps the user name and masks the
// password, whatever characters it holds. A short flag (-p, -a, -t) means
// what its tool says: tools.go has a table of the short flags that carry
// a secret in common database and operations tools (redis-cli -a, sqlcmd
// -P, ldapsearch -w), and a tool not in it has -p and -t masked. The tool
// of a flag is the command word before it: the first word, the word after
// a shell separator (;, &&, |) or --, or any word naming a tool in the
// table (docker exec c redis-cli -a x). Redaction errs on the side of
// masking: a value that only might be a secret is masked.
package redact
