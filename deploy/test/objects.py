#!/usr/bin/env python3
"""Checks on rendered Kubernetes objects for scripts/check-deploy (run in its venv).

    objects.py RENDERED.yaml OUTDIR

Reads every object of one rendering (helm template or kubectl kustomize) and
- writes the objects the Kubernetes schemas cover to OUTDIR/core.yaml, for kubernetes-validate
  (their number, and the ServiceMonitors', to OUTDIR/counts);
- validates each ServiceMonitor against servicemonitor-v1.schema.json (strict, jsonschema) and
  writes them to OUTDIR/servicemonitors.json for the validator generated from the full CRD;
- refuses any other custom resource: there is no schema here to check it against;
- checks what no schema can: burnwatch containers keep the hardened security context, the port
  name and the probes; Services, ServiceMonitors and PodDisruptionBudgets select the pods they
  are meant for; mounted ConfigMaps exist (or are named as external); every ${VAR} a
  configuration references is given to the container;
- writes each ConfigMap's burnwatch.toml to OUTDIR/configs/<name>.toml and the variables it
  references to OUTDIR/configs/<name>.env, for `burnwatch validate`.
Prints one line per object and per finding; exits 1 on any problem.
"""

import json
import os
import re
import sys

import jsonschema
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA = os.path.join(HERE, "servicemonitor-v1.schema.json")
CONFIG_KEY = "burnwatch.toml"
# ${NAME} as burnwatch expands it; $${NAME} is a literal and not a reference.
ENV_REF = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}

problems = []


def problem(where, message):
    problems.append(f"{where}: {message}")


def ident(obj):
    return f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"


def selects(selector, labels):
    """True when a label selector (matchLabels/matchExpressions or a plain map) matches labels."""
    if not selector:
        return False
    match = selector.get("matchLabels", selector if "matchExpressions" not in selector else {})
    if not all(labels.get(k) == v for k, v in match.items()):
        return False
    for expr in selector.get("matchExpressions", []):
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def toml_comment_free(text):
    """The configuration without comment lines, so commented-out examples do not count."""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def check_burnwatch_container(where, pod, container, configmaps):
    sc = container.get("securityContext", {})
    psc = pod.get("securityContext", {})
    checks = [
        (sc.get("readOnlyRootFilesystem") is True, "readOnlyRootFilesystem is not true"),
        (sc.get("allowPrivilegeEscalation") is False, "allowPrivilegeEscalation is not false"),
        ("ALL" in sc.get("capabilities", {}).get("drop", []), "capabilities do not drop ALL"),
        (
            sc.get("runAsNonRoot", psc.get("runAsNonRoot")) is True,
            "runAsNonRoot is not true (container or pod)",
        ),
        (
            sc.get("seccompProfile", psc.get("seccompProfile", {})).get("type") == "RuntimeDefault",
            "seccompProfile is not RuntimeDefault (container or pod)",
        ),
        (
            sc.get("runAsUser", psc.get("runAsUser", 65532)) == 65532,
            "runs as a user other than 65532",
        ),
    ]
    for ok, message in checks:
        if not ok:
            problem(where, message)
    ports = {p.get("name"): p.get("containerPort") for p in container.get("ports", [])}
    if ports.get("http-metrics") != 9464:
        problem(where, "no container port http-metrics = 9464")
    live = container.get("livenessProbe", {}).get("httpGet", {})
    if live.get("path") != "/healthz":
        problem(where, "livenessProbe is not GET /healthz")
    ready = container.get("readinessProbe")
    if ready is not None and ready.get("httpGet", {}).get("path") != "/readyz":
        problem(where, "readinessProbe is not GET /readyz")
    args = container.get("args", [])
    for flag, want in (("--config", "/etc/burnwatch/burnwatch.toml"), ("--data-dir", "/var/lib/burnwatch")):
        if flag not in args or args.index(flag) + 1 >= len(args) or args[args.index(flag) + 1] != want:
            problem(where, f"args lack {flag} {want}")
    mounts = {m["mountPath"]: m for m in container.get("volumeMounts", [])}
    config_mount = mounts.get("/etc/burnwatch")
    if not config_mount or config_mount.get("readOnly") is not True or "subPath" in config_mount:
        problem(where, "/etc/burnwatch is not a read-only directory mount (no subPath, or reloads never see changes)")
    if "/var/lib/burnwatch" not in mounts:
        problem(where, "no volume mounted at the data dir /var/lib/burnwatch")

    # The configuration this container reads, and the variables it references.
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    config_name = None
    if config_mount:
        cm = volumes.get(config_mount["name"], {}).get("configMap")
        config_name = cm and cm.get("name")
    env_names = {e["name"] for e in container.get("env", [])}
    env_from = [
        (e.get("secretRef") or e.get("configMapRef") or {}).get("name") for e in container.get("envFrom", [])
    ]
    if config_name in configmaps:
        text = toml_comment_free(configmaps[config_name])
        for var in sorted(set(ENV_REF.findall(text))):
            if var in env_names:
                print(f"    ${{{var}}} in {config_name}: set by env of {where}")
            elif env_from:
                print(f"    ${{{var}}} in {config_name}: expected from envFrom {', '.join(env_from)} of {where}")
            else:
                problem(where, f"configuration {config_name} references ${{{var}}}, which the container does not get")
    elif config_name:
        print(f"    configuration: external ConfigMap {config_name} (not part of this rendering)")


def main(rendered, outdir):
    with open(rendered) as f:
        objects = [o for o in yaml.safe_load_all(f) if o]
    if not objects:
        problem(rendered, "no objects rendered")
    os.makedirs(os.path.join(outdir, "configs"), exist_ok=True)
    with open(SCHEMA) as f:
        sm_validator = jsonschema.Draft202012Validator(json.load(f))

    core, monitors, configmaps = [], [], {}
    for obj in objects:
        group = obj.get("apiVersion", "").rpartition("/")[0]
        if obj.get("apiVersion") == "monitoring.coreos.com/v1" and obj.get("kind") == "ServiceMonitor":
            errors = sorted(sm_validator.iter_errors(obj), key=lambda e: list(e.absolute_path))
            for e in errors:
                path = "/".join(str(p) for p in e.absolute_path) or "(root)"
                problem(ident(obj), f"ServiceMonitor schema: {path}: {e.message}")
            print(f"  {ident(obj)}: {'INVALID' if errors else 'valid'} against {os.path.basename(SCHEMA)} (strict)")
            monitors.append(obj)
        elif "." in group and not group.endswith(".k8s.io"):
            problem(ident(obj), f"custom resource {obj.get('apiVersion')} has no schema in deploy/test")
        else:
            core.append(obj)
        if obj.get("kind") == "ConfigMap" and CONFIG_KEY in obj.get("data", {}):
            configmaps[obj["metadata"]["name"]] = obj["data"][CONFIG_KEY]

    with open(os.path.join(outdir, "core.yaml"), "w") as f:
        yaml.safe_dump_all(core, f, sort_keys=False)
    with open(os.path.join(outdir, "servicemonitors.json"), "w") as f:
        json.dump(monitors, f)
    with open(os.path.join(outdir, "counts"), "w") as f:
        f.write(f"{len(core)} {len(monitors)}\n")

    # Wiring: workloads, the Services and monitors that select them.
    pods = []
    for obj in objects:
        if obj.get("kind") not in WORKLOADS:
            continue
        template = obj["spec"]["template"]
        labels = template.get("metadata", {}).get("labels", {})
        if not selects(obj["spec"].get("selector", {}), labels):
            problem(ident(obj), "spec.selector does not match the pod template's labels")
        pods.append((ident(obj), labels, template["spec"]))
        found = False
        for c in template["spec"].get("containers", []):
            if "burnwatch" in c.get("image", ""):
                found = True
                check_burnwatch_container(f"{ident(obj)} container {c['name']}", template["spec"], c, configmaps)
        if found:
            print(f"  {ident(obj)}: burnwatch container checked (security context, port, probes, mounts, env)")
        if obj["kind"] == "StatefulSet":
            service = obj["spec"].get("serviceName")
            if not any(o.get("kind") == "Service" and o["metadata"]["name"] == service for o in objects):
                problem(ident(obj), f"serviceName {service} is not a Service of this rendering")
            args = [a for c in template["spec"]["containers"] for a in c.get("args", [])]
            if "--shard-count" in args and args[args.index("--shard-count") + 1] != str(obj["spec"]["replicas"]):
                problem(ident(obj), "--shard-count differs from the StatefulSet's replicas")
        volumes = template["spec"].get("volumes", [])
        claims = {t["metadata"]["name"] for t in obj["spec"].get("volumeClaimTemplates", [])}
        mounted = {m["name"] for c in template["spec"]["containers"] for m in c.get("volumeMounts", [])}
        for name in mounted - {v["name"] for v in volumes} - claims:
            problem(ident(obj), f"volumeMount {name} has no volume")
        for v in volumes:
            pvc = v.get("persistentVolumeClaim")
            if pvc and not any(
                o.get("kind") == "PersistentVolumeClaim" and o["metadata"]["name"] == pvc["claimName"] for o in objects
            ):
                print(f"    volume {v['name']}: external claim {pvc['claimName']} (not part of this rendering)")

    services = [o for o in objects if o.get("kind") == "Service"]
    for svc in services:
        if not any(selects(svc["spec"].get("selector", {}), labels) for _, labels, _ in pods):
            problem(ident(svc), "selects no pod of this rendering")
        names = [p.get("name") for p in svc["spec"].get("ports", [])]
        if "http-metrics" not in names:
            problem(ident(svc), "has no port named http-metrics")
    for sm in monitors:
        chosen = [s for s in services if selects(sm["spec"].get("selector", {}), s["metadata"].get("labels", {}))]
        if len(chosen) != 1:
            problem(ident(sm), f"selects {len(chosen)} Services ({', '.join(ident(s) for s in chosen)}), expected exactly 1")
        for ep in sm["spec"].get("endpoints", []):
            for svc in chosen:
                if ep.get("port") not in [p.get("name") for p in svc["spec"].get("ports", [])]:
                    problem(ident(sm), f"endpoint port {ep.get('port')} is not a port of {ident(svc)}")
    for pdb in (o for o in objects if o.get("kind") == "PodDisruptionBudget"):
        if not any(selects(pdb["spec"].get("selector", {}), labels) for _, labels, _ in pods):
            problem(ident(pdb), "selects no pod of this rendering")

    for name, text in configmaps.items():
        path = os.path.join(outdir, "configs", f"{name}.toml")
        with open(path, "w") as f:
            f.write(text)
        with open(os.path.join(outdir, "configs", f"{name}.env"), "w") as f:
            f.writelines(f"{var}\n" for var in sorted(set(ENV_REF.findall(toml_comment_free(text)))))

    print(
        f"  {len(objects)} objects: {len(core)} for kubernetes-validate, {len(monitors)} ServiceMonitor(s), "
        f"{len(configmaps)} configuration(s)"
    )
    for p in problems:
        print(f"  PROBLEM {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
