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
	walkKeys(reflect.ValueOf(c).Elem(), "", hasSuffix("_env"), &out)
	return out
}

// secretFiles lists every *_file key the config sets, as EnvVars lists
// the *_env keys (every *_file key names a file a secret is read from).
func (c *Config) secretFiles() []EnvVar {
	var out []EnvVar
	walkKeys(reflect.ValueOf(c).Elem(), "", hasSuffix("_file"), &out)
	return out
}

// inlineSecrets lists every key set to a secret written in the file: a
// key with a *_env twin (url beside url_env, password beside
// password_env), which says its value is a secret. Name holds the
// secret: never print it.
func (c *Config) inlineSecrets() []EnvVar {
	var out []EnvVar
	walkKeys(reflect.ValueOf(c).Elem(), "", func(parent reflect.Type, name string) bool {
		return hasKey(parent, name+"_env")
	}, &out)
	return out
}

// keyMatch says whether key name of a struct of type parent is one
// walkKeys lists.
type keyMatch func(parent reflect.Type, name string) bool

func hasSuffix(suffix string) keyMatch {
	return func(_ reflect.Type, name string) bool { return strings.HasSuffix(name, suffix) }
}

// hasKey says whether struct type t has the YAML key name.
func hasKey(t reflect.Type, name string) bool {
	for i := range t.NumField() {
		if k, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); k == name {
			return true
		}
	}
	return false
}

// walkKeys appends the string keys below v that match and whose values
// are set.
func walkKeys(v reflect.Value, path string, match keyMatch, out *[]EnvVar) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walkKeys(v.Elem(), path, match, out)
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
			if fv.Kind() == reflect.String && match(t, name) {
				if s := fv.String(); s != "" {
					*out = append(*out, EnvVar{Key: p, Name: s})
				}
				continue
			}
			walkKeys(fv, p, match, out)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			walkKeys(v.Index(i), fmt.Sprintf("%s[%d]", path, i), match, out)
		}
	case reflect.Map:
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
		for _, k := range keys {
			walkKeys(v.MapIndex(k), fmt.Sprintf("%s.%v", path, k), match, out)
		}
	}
}
