package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// samconfig is where the default stack name is read: sam deploy's own.
var samconfig = "samconfig.toml"

// functionFromStack reads the output key (FunctionName or
// ReconcileFunctionName, template.yaml's Outputs) of stack, or of the stack
// samconfig.toml names, with `aws cloudformation describe-stacks`.
func functionFromStack(stack, key string) (string, error) {
	if stack == "" {
		var err error
		if stack, err = samStackName(samconfig); err != nil {
			return "", fmt.Errorf("no -function given and %w; give -function NAME or -stack NAME", err)
		}
	}
	cmd := exec.Command("aws", "cloudformation", "describe-stacks", "--stack-name", stack, "--output", "json")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("-stack %s: aws cloudformation describe-stacks: %v: %s", stack, err, strings.TrimSpace(stderr.String()))
	}
	var res struct {
		Stacks []struct {
			Outputs []struct{ OutputKey, OutputValue string }
		}
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return "", fmt.Errorf("-stack %s: describe-stacks answered no JSON: %w", stack, err)
	}
	if len(res.Stacks) != 1 {
		return "", fmt.Errorf("-stack %s: describe-stacks answered %d stacks, want 1", stack, len(res.Stacks))
	}
	for _, o := range res.Stacks[0].Outputs {
		if o.OutputKey == key && o.OutputValue != "" {
			return o.OutputValue, nil
		}
	}
	return "", fmt.Errorf("-stack %s: no output %s (is it a catchup stack?); give -function NAME", stack, key)
}

// samStackName is the stack_name of path's [default.deploy.parameters] (or
// [default.global.parameters]), the stack `sam deploy` makes.
func samStackName(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("no stack name: %w", err)
	}
	defer f.Close()
	names := map[string]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			section = strings.Trim(line, "[] ")
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if ok && strings.TrimSpace(k) == "stack_name" {
			names[section] = strings.Trim(strings.TrimSpace(v), `"'`)
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	for _, s := range []string{"default.deploy.parameters", "default.global.parameters"} {
		if names[s] != "" {
			return names[s], nil
		}
	}
	return "", errors.New(path + " names no stack_name")
}
