package config

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// EnvVar is an environment variable the config reads a secret from: a
// *_env key's value (Name) and that key's path (Key, e.g.
// "notifications.channels[0].url_env").
type EnvVar struct{ Key, Name string }

// EnvVars lists every *_env key the config sets, anywhere in it
// (repository, sources, drill, notification channels, hooks of the
// config, jobs, checks and drills, the dashboard), in the file's order.
// schedule install names them: a systemd unit does not have the
// environment of the shell that installed it.
func (c *Config) EnvVars() []EnvVar {
	var out []EnvVar
	walkKeys(reflect.ValueOf(c).Elem(), "", "_env", &out)
	return out
}

// secretFiles lists every *_file key the config sets, as EnvVars lists
// the *_env keys (every *_file key names a file a secret is read from).
func (c *Config) secretFiles() []EnvVar {
	var out []EnvVar
	walkKeys(reflect.ValueOf(c).Elem(), "", "_file", &out)
	return out
}

// walkKeys appends the string keys below v whose names end in suffix and
// whose values are set.
func walkKeys(v reflect.Value, path, suffix string, out *[]EnvVar) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walkKeys(v.Elem(), path, suffix, out)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "-" {
				continue
			}
			p := path
			if name != "" {
				if p != "" {
					p += "."
				}
				p += name
			}
			fv := v.Field(i)
			if fv.Kind() == reflect.String && strings.HasSuffix(name, suffix) {
				if s := fv.String(); s != "" {
					*out = append(*out, EnvVar{Key: p, Name: s})
				}
				continue
			}
			walkKeys(fv, p, suffix, out)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			walkKeys(v.Index(i), fmt.Sprintf("%s[%d]", path, i), suffix, out)
		}
	case reflect.Map:
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
		for _, k := range keys {
			walkKeys(v.MapIndex(k), fmt.Sprintf("%s.%v", path, k), suffix, out)
		}
	}
}
