// Validates ServiceMonitors with the validator generated from the full upstream CRD
// (npm @kubernetes-models/prometheus-operator): types, patterns, enums and required keys of every
// field. It ignores unknown keys, which servicemonitor-v1.schema.json rejects (objects.py).
//
//   node servicemonitor-upstream.mjs NPM_PREFIX servicemonitors.json...
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [prefix, ...files] = process.argv.slice(2);
if (!prefix || files.length === 0) {
  console.error("usage: node servicemonitor-upstream.mjs NPM_PREFIX servicemonitors.json...");
  process.exit(2);
}
const modulePath =
  `${prefix}/node_modules/@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor.js`;
const { ServiceMonitor } = await import(pathToFileURL(modulePath).href);

function check(obj) {
  try {
    new ServiceMonitor(obj).validate();
    return null;
  } catch (e) {
    return e.message;
  }
}

// The validator must reject what the CRD forbids, or a pass would mean nothing.
const broken = {
  apiVersion: "monitoring.coreos.com/v1",
  kind: "ServiceMonitor",
  metadata: { name: "self-test" },
  spec: { selector: {}, endpoints: [{ port: "http-metrics", interval: "30 seconds" }] },
};
if (check(broken) === null) {
  console.error("  PROBLEM the upstream ServiceMonitor validator accepted an invalid interval: not checking anything");
  process.exit(1);
}

let failed = 0;
for (const file of files) {
  for (const obj of JSON.parse(readFileSync(file, "utf8"))) {
    const name = `ServiceMonitor/${obj.metadata?.name}`;
    const error = check(obj);
    if (error === null) {
      console.log(`  ${name}: valid against the upstream CRD schema`);
    } else {
      console.log(`  PROBLEM ${name}: upstream CRD schema: ${error}`);
      failed++;
    }
  }
}
process.exit(failed ? 1 : 0);
