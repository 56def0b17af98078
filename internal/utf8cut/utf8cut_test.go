package utf8cut

import "testing"

func TestPrefix(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
		cut  bool
	}{
		{"abc", 3, "abc", false},
		{"abc", 5, "abc", false},
		{"abcd", 3, "abc", true},
		{"aé", 2, "a", true}, // é is two bytes: never split
		{"é", 0, "", true},
		{"日本", 4, "日", true},
		{"", 0, "", false},
	}
	for _, tt := range tests {
		got, cut := Prefix(tt.s, tt.n)
		if got != tt.want || cut != tt.cut {
			t.Errorf("Prefix(%q, %d) = %q, %v; want %q, %v", tt.s, tt.n, got, cut, tt.want, tt.cut)
		}
	}
}
