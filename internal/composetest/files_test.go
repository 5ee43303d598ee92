package composetest

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// root is the repository's top directory, where the shipped files live.
var root = filepath.Join("..", "..")

// composeFile is what the tests read of docker-compose.yml.
type composeFile struct {
	Services map[string]service `yaml:"services"`
	Volumes  map[string]any     `yaml:"volumes"`
	Secrets  map[string]source  `yaml:"secrets"`
	Configs  map[string]source  `yaml:"configs"`
}

type source struct {
	File string `yaml:"file"`
}

type service struct {
	Image           string            `yaml:"image"`
	Build           any               `yaml:"build"`
	User            string            `yaml:"user"`
	Entrypoint      stringList        `yaml:"entrypoint"`
	Command         stringList        `yaml:"command"`
	Environment     map[string]string `yaml:"environment"`
	Configs         []mount           `yaml:"configs"`
	Secrets         []string          `yaml:"secrets"`
	Volumes         []string          `yaml:"volumes"`
	Ports           []string          `yaml:"ports"`
	DependsOn       dependsOnMap      `yaml:"depends_on"`
	Healthcheck     *healthcheck      `yaml:"healthcheck"`
	StopGracePeriod string            `yaml:"stop_grace_period"`
	Profiles        []string          `yaml:"profiles"`
}

type mount struct {
	Source string `yaml:"source"`
	Target string `yaml:"target"`
}

type dependsOn struct {
	Condition string `yaml:"condition"`
}

// dependsOnMap reads both forms of depends_on: a list of names (no
// condition) or a map of name to {condition}.
type dependsOnMap map[string]dependsOn

func (d *dependsOnMap) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.SequenceNode {
		var names []string
		if err := n.Decode(&names); err != nil {
			return err
		}
		*d = dependsOnMap{}
		for _, name := range names {
			(*d)[name] = dependsOn{}
		}
		return nil
	}
	return n.Decode((*map[string]dependsOn)(d))
}

// stringList reads a command or entrypoint: a list, or one string (split
// on spaces here, which is enough for the checks).
type stringList []string

func (l *stringList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*l = strings.Fields(n.Value)
		return nil
	}
	return n.Decode((*[]string)(l))
}

type healthcheck struct {
	Test []string `yaml:"test"`
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// loadCompose parses docker-compose.yml (anchors and merge keys resolved by
// the YAML library, as Compose does).
func loadCompose(t *testing.T) (composeFile, string) {
	t.Helper()
	text := readFile(t, "docker-compose.yml")
	var c composeFile
	if err := yaml.Unmarshal([]byte(text), &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	for _, name := range []string{"redis", "worker"} {
		if _, ok := c.Services[name]; !ok {
			t.Fatalf("docker-compose.yml has no %s service", name)
		}
	}
	return c, text
}

// stage is one FROM of the Dockerfile and the USER it ends with.
type stage struct {
	from, user string
}

// readDockerfile returns the Dockerfile's stages, ARG defaults substituted.
func readDockerfile(t *testing.T) []stage {
	t.Helper()
	args := map[string]string{}
	var stages []stage
	argRef := regexp.MustCompile(`\$\{(\w+)\}|\$(\w+)`)
	sc := bufio.NewScanner(strings.NewReader(readFile(t, "Dockerfile")))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		switch strings.ToUpper(fields[0]) {
		case "ARG":
			if name, value, ok := strings.Cut(fields[1], "="); ok {
				args[name] = value
			}
		case "FROM":
			from := argRef.ReplaceAllStringFunc(fields[1], func(ref string) string {
				return args[strings.Trim(ref, "${}")]
			})
			stages = append(stages, stage{from: from})
		case "USER":
			if len(stages) > 0 {
				stages[len(stages)-1].user = fields[1]
			}
		}
	}
	if len(stages) == 0 {
		t.Fatal("Dockerfile: no FROM")
	}
	return stages
}

// lines returns a file's non-comment, non-blank lines.
func lines(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}
