// Package deploycheck holds, in its tests only, the checks that fail when
// what sam builds and deploys drifts from the code: template.yaml (the
// environment the config reads, the tables init creates, the calls the code
// makes and the role allows, the metrics the alarms and the dashboard
// watch), the Makefile's build targets, samconfig.toml, env.json and the
// payloads in events/. They read files and parse Go source; nothing here
// runs the function (functions/catchup's tests do that).
package deploycheck
