package tasks_test

import (
	"strings"
	"testing"

	"github.com/mxinvite/mxinvite/matrix"
	"github.com/mxinvite/mxinvite/tasks"
)

// TestRoomIDRulesAgreeWithMatrix: the payload rule and matrix.ParseRoomID
// accept the same room IDs, so that a task never holds a room the invite
// call would refuse without sending.
func TestRoomIDRulesAgreeWithMatrix(t *testing.T) {
	inputs := []string{
		v12Room, "!Nhcu5BS-UMnFX7hBVfVSoXiD7OgH6iRT-xyIuqDnpYQ", "!" + strings.Repeat("-", 43),
		v12Room[:43], v12Room + "A", "!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3og+M", "!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogL=",
		"!abc:example.org", "!abc:example.org:8448", "!a:b", v12Room + ":example.org", "!ünï:example.org",
		"", "!", "!:", "!abc", "!abc:", "!:example.org", "#abc:example.org", "abc", "$" + v12Room[1:],
		"!ab c:example.org", "!abc:example.org\n", "!" + strings.Repeat("a", 248) + ":e.org", "!" + strings.Repeat("a", 249) + ":e.org",
	}
	for _, s := range inputs {
		_, matrixErr := matrix.ParseRoomID(s)
		tasksErr := tasks.ValidateRoomID(s)
		if (matrixErr == nil) != (tasksErr == nil) {
			t.Errorf("%q: matrix says %v, tasks says %v", s, matrixErr, tasksErr)
		}
	}
}
