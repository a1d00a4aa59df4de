"""What `doctor` finds before the lessons start: tools, cluster, load balancer, Istio, CRDs, rights.

Every finding says what was found, what it means for the lessons and how to fix it. The same
facts (`Preflight.facts`) let the engine adapt steps: no LoadBalancer, Istio already there, CRDs
at another version. Reads only: nothing here creates anything on the cluster.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from tutorial.cluster.client import ClusterClient, ClusterError

SEVERITIES = ("ok", "info", "warn", "block")


@dataclass
class Finding:
    """One thing doctor looked at: how bad it is, what it saw, what follows, what to do."""

    id: str
    severity: str  # ok | info | warn | block
    title: str
    found: str
    consequence: str = ""
    fix: str = ""

    def to_json(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class Preflight:
    """All findings plus machine-readable facts the engine and the checks adapt to."""

    findings: list[Finding] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def add(self, *findings: Finding | None) -> None:
        self.findings.extend(f for f in findings if f is not None)

    @property
    def unreachable(self) -> bool:
        return self.facts.get("reachable") is False

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "block"]

    def exit_code(self) -> int:
        from tutorial.exitcodes import EXIT_CHECK_FAILED, EXIT_OK, EXIT_UNREACHABLE

        if self.unreachable:
            return EXIT_UNREACHABLE
        return EXIT_CHECK_FAILED if self.blocking else EXIT_OK

    def to_json(self) -> dict[str, Any]:
        return {"format": 1, "exit_code": self.exit_code(), "facts": self.facts,
                "findings": [f.to_json() for f in self.findings]}


# -- knowledge (FACTS.md section 0 and (d)) ---------------------------------------------

# Istio minor -> the Gateway API version that Istio release is built against (istio/istio go.mod).
ISTIO_GATEWAY_API = {22: "v1.1.0", 23: "v1.1.0", 24: "v1.2.0", 25: "v1.2.1", 26: "v1.3.0", 27: "v1.3.0",
                     28: "v1.4.0", 29: "v1.4.0", 30: "v1.5.1"}
TUTORIAL_GATEWAY_API = "v1.3.0"
TUTORIAL_ISTIO = "1.27.1"  # lesson 2's istio_version (lessons/02-istio.yaml)
GATEWAY_API_CRDS = ("gatewayclasses", "gateways", "httproutes", "referencegrants", "grpcroutes")
BUNDLE_ANNOTATION = "gateway.networking.k8s.io/bundle-version"
CHANNEL_ANNOTATION = "gateway.networking.k8s.io/channel"

KIND_NAMES = {"sandbox": "sandbox (simulated)", "kind": "kind", "minikube": "minikube", "k3d": "k3d (k3s in Docker)",
              "k3s": "k3s", "docker-desktop": "Docker Desktop", "eks": "Amazon EKS", "gke": "Google GKE",
              "aks": "Azure AKS", "doks": "DigitalOcean DOKS", "unknown": "a Kubernetes cluster of unknown make"}
KIND_NOTES = {
    "sandbox": "Nothing here is a real pod; the simulated istiod and data plane answer like the real ones.",
    "kind": "kind has no LoadBalancer implementation unless you add cloud-provider-kind or MetalLB.",
    "minikube": "LoadBalancer addresses appear only while `minikube tunnel` runs.",
    "k3d": "k3s's ServiceLB gives LoadBalancer addresses; reaching them from your machine needs a k3d port map "
           "(`k3d cluster create NAME -p \"8080:8080@loadbalancer\"`, or `k3d cluster edit NAME --port-add "
           "8080:8080@loadbalancer`). Its Traefik holds ports 80 and 443; the lesson's 8080 stays free.",
    "k3s": "k3s's ServiceLB gives LoadBalancer addresses on the node IPs.",
    "docker-desktop": "Docker Desktop publishes LoadBalancer Services on localhost.",
    "eks": "A cloud cluster: LoadBalancer Services get a cloud load balancer (it costs money; clean up).",
    "gke": "A cloud cluster: LoadBalancer Services get a cloud load balancer (it costs money; clean up).",
    "aks": "A cloud cluster: LoadBalancer Services get a cloud load balancer (it costs money; clean up).",
    "doks": "The blog's own platform: LoadBalancer Services get a DigitalOcean load balancer in a few minutes.",
}
CLOUD_KINDS = ("eks", "gke", "aks", "doks")
# (kind, where to look, pattern) in order; the first match wins.
KIND_RULES = (
    ("sandbox", "label", "gateway-tutorial.dev/sandbox"), ("kind", "provider", "kind://"),
    ("minikube", "label", "minikube.k8s.io/name"), ("k3d", "name", r"^k3d-"), ("k3s", "kubelet", r"\+k3s"),
    ("k3s", "label", "k3s.io/hostname"), ("docker-desktop", "name", r"^docker-desktop$"),
    ("eks", "provider", "aws://"), ("eks", "label", "eks.amazonaws.com/nodegroup"),
    ("gke", "provider", "gce://"), ("gke", "label", "cloud.google.com/gke-nodepool"),
    ("aks", "provider", "azure://"), ("aks", "label", "kubernetes.azure.com/cluster"),
    ("doks", "provider", "digitalocean://"), ("kind", "name", r"-control-plane$"), ("minikube", "name", r"^minikube"),
)


def version_tuple(text: str | None) -> tuple[int, ...] | None:
    match = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", text or "")
    return tuple(int(g or 0) for g in match.groups()) if match else None


def minor_of(version: str | None) -> int | None:
    parsed = version_tuple(version)
    return parsed[1] if parsed else None


def parse_tool_version(name: str, output: str) -> str:
    if name == "kubectl":
        try:
            return json.loads(output)["clientVersion"]["gitVersion"]
        except (ValueError, KeyError, TypeError):
            pass
    match = re.search(r"v?\d+\.\d+\.\d+[\w.+-]*", output)
    return match.group(0) if match else output.strip().splitlines()[0][:60] if output.strip() else "?"


def version_skew(kubectl: str | None, server: str) -> Finding | None:
    """kubectl is supported within one minor version of the API server."""
    client, cluster = version_tuple(kubectl), version_tuple(server)
    if not client or not cluster or abs(client[1] - cluster[1]) <= 1:
        return None
    return Finding("tool.kubectl-skew", "warn", "kubectl and cluster versions",
                   f"kubectl {kubectl} talks to Kubernetes {server}",
                   "kubectl supports clusters one minor version older or newer; beyond that some "
                   "commands fail or print wrong columns.",
                   f"Install kubectl 1.{cluster[1]} (https://kubernetes.io/docs/tasks/tools/).")


def cluster_kind(nodes: list[dict], context: str) -> tuple[str, str]:
    """(kind, evidence) from node labels, names, providerIDs and kubelet versions; context name last."""
    for kind, where, pattern in KIND_RULES:
        for node in nodes:
            meta, spec = node.get("metadata") or {}, node.get("spec") or {}
            value = {"label": " ".join(meta.get("labels") or {}), "name": meta.get("name", ""),
                     "provider": spec.get("providerID", ""),
                     "kubelet": ((node.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion", "")}[where]
            hit = pattern in value.split() if where == "label" else (
                value.startswith(pattern) if where == "provider" else re.search(pattern, value))
            if hit:
                return kind, f"node {meta.get('name')}: {where} {pattern.strip('^$')}"
    for kind, prefix in (("kind", "kind-"), ("minikube", "minikube"), ("k3d", "k3d-"),
                         ("docker-desktop", "docker-desktop"), ("eks", "arn:aws:eks:"), ("gke", "gke_")):
        if context.startswith(prefix):
            return kind, f"context name {context}"
    return "unknown", f"{len(nodes)} node(s), no known label or provider"


# -- tools --------------------------------------------------------------------------

TOOL_COMMANDS = {
    "kubectl": ["kubectl", "version", "--client", "-o", "json"],
    "helm": ["helm", "version"],
    "istioctl": ["istioctl", "version", "--remote=false"],
}


def tool_versions(run_target) -> dict[str, tuple[str | None, str]]:
    """tool -> (version or None when missing/broken, what went wrong), asked in parallel."""
    from tutorial.engine.runner import CommandSpec, run_command

    def ask(name: str):
        result = run_command(CommandSpec(argv=TOOL_COMMANDS[name], timeout=20), run_target)
        if result.missing_executable or result.exit_code is None or not result.ok:
            return name, (None, result.explanation or (result.stderr or result.stdout).strip()[:200])
        return name, (parse_tool_version(name, result.stdout), "")

    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="doctor-tool") as pool:
        return dict(pool.map(ask, TOOL_COMMANDS))


def tool_findings(report: Preflight, tools: dict[str, tuple[str | None, str]]) -> None:
    report.facts["tools"] = {name: version for name, (version, _) in tools.items()}
    from tutorial.engine.runner import INSTALL_HINTS

    kubectl, _ = tools["kubectl"]
    report.add(Finding("tool.kubectl", "ok" if kubectl else "block", "kubectl",
                       f"kubectl {kubectl}" if kubectl else f"kubectl is not usable: {tools['kubectl'][1]}",
                       "" if kubectl else "Every lesson runs kubectl; nothing can run without it.",
                       "" if kubectl else INSTALL_HINTS["kubectl"]))
    installers = [n for n in ("helm", "istioctl") if tools[n][0]]
    for name in ("helm", "istioctl"):
        version, why = tools[name]
        if version:
            report.add(Finding(f"tool.{name}", "ok", name, f"{name} {version}"))
            continue
        report.add(Finding(f"tool.{name}", "info" if installers else "block", name,
                           f"{name} is not usable: {why}",
                           f"The {name} variant of the Istio lesson cannot run"
                           + ("." if installers else "; neither can the other: you need helm or istioctl."),
                           INSTALL_HINTS[name]))


# -- cluster ------------------------------------------------------------------------

def cluster_basics(report: Preflight, client: ClusterClient, target) -> list[dict] | None:
    """Reachability and Kubernetes version; the node list, or None when unreachable."""
    report.facts.update(context=target.context, server=target.server, sandbox=bool(target.sandbox))
    try:
        version = client.get_json("/version")
        nodes = client.list(client.resource("v1", "Node"))[0]
    except ClusterError as exc:
        report.facts["reachable"] = not exc.unreachable
        severity = "block"
        report.add(Finding("cluster.reachable", severity, "cluster",
                           f"context {target.context} at {target.server}: {exc}",
                           "No lesson can run or be checked while the API server does not answer.",
                           "Check the context (`kubectl config get-contexts`), that the cluster is running "
                           "(`kind get clusters`, `minikube status`, ...), or add --sandbox to practise on the "
                           "simulated cluster."))
        return None
    server_version = version.get("gitVersion", "?")
    report.facts.update(reachable=True, kubernetes_version=server_version)
    report.add(Finding("cluster.reachable", "ok", "cluster",
                       f"context {target.context} at {target.server} answers: Kubernetes {server_version}, "
                       f"{len(nodes)} node(s)"))
    report.add(version_skew(report.facts.get("tools", {}).get("kubectl"), server_version))
    return nodes


def kind_finding(report: Preflight, nodes: list[dict], context: str) -> str:
    kind, evidence = cluster_kind(nodes, context)
    report.facts["cluster_kind"] = kind
    report.add(Finding("cluster.kind", "info", "kind of cluster", f"{KIND_NAMES.get(kind, kind)} ({evidence})",
                       KIND_NOTES.get(kind, "")))
    return kind


def loadbalancer_finding(report: Preflight, client: ClusterClient, kind: str, nodes: list[dict]) -> None:
    """Whether LoadBalancer Services get addresses here, from what the cluster shows."""
    from tutorial.engine.portforward import LoadBalancerEvidence

    available, severity, found, consequence, fix = LoadBalancerEvidence.gather(client).verdict(kind, nodes)
    report.facts["lb_available"] = available
    report.add(Finding("loadbalancer", severity, "LoadBalancer addresses", found, consequence, fix))



# -- Istio, Gateway API CRDs and their pairing ------------------------------------------

def find_istio(client: ClusterClient) -> dict | None:
    """The istiod Deployment (any namespace): version from its image tag, revision, readiness."""
    deployments = client.list(client.resource("apps/v1", "Deployment"), None, label_selector="app=istiod")[0]
    if not deployments:
        return None
    dep = deployments[0]
    meta, spec = dep.get("metadata") or {}, (dep.get("spec") or {})
    pod_spec = ((spec.get("template") or {}).get("spec") or {})
    image = next((c.get("image", "") for c in pod_spec.get("containers") or [] if "pilot" in c.get("image", "")), "")
    labels = {**(meta.get("labels") or {}), **(((spec.get("template") or {}).get("metadata") or {}).get("labels") or {})}
    ready = int((dep.get("status") or {}).get("availableReplicas") or 0) >= 1
    installer = "helm" if labels.get("app.kubernetes.io/managed-by") == "Helm" else (
        "istioctl" if any(k.startswith(("operator.istio.io", "install.operator.istio.io")) for k in labels) else "unknown")
    return {"namespace": meta.get("namespace"), "name": meta.get("name"), "image": image,
            "version": image.rsplit(":", 1)[-1].split("-")[0] if ":" in image else None,
            "revision": labels.get("istio.io/rev", "default"), "installer": installer, "ready": ready,
            "problem": "" if ready else istiod_problem(client, meta.get("namespace"))}


def istiod_problem(client: ClusterClient, namespace: str | None) -> str:
    """Why istiod is not ready, from its pods (scheduling, image pulls, crashes)."""
    pods = client.list(client.resource("v1", "Pod"), namespace, label_selector="app=istiod")[0]
    if not pods:
        return "no istiod pod exists (look at the Deployment's ReplicaSet events)"
    status = pods[0].get("status") or {}
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            return f"pod Pending, {cond.get('reason')}: {cond.get('message')}"
    for cs in status.get("containerStatuses") or []:
        waiting = (cs.get("state") or {}).get("waiting")
        if waiting:
            return f"container {cs.get('name')} waiting: {waiting.get('reason')} {waiting.get('message', '')}".strip()
    return f"pod {status.get('phase', 'Unknown')}, not Ready yet"


def istiod_fix(problem: str) -> str:
    if "Insufficient memory" in problem or "Insufficient cpu" in problem:
        return ("istiod asks for 2 GiB memory and 500m CPU. Give the cluster more (e.g. `minikube start --memory 6g`, "
                "Docker Desktop's resources), or lower the request: `helm upgrade istiod istio/istiod -n istio-system "
                "--reuse-values --set pilot.resources.requests.memory=512Mi --set pilot.resources.requests.cpu=100m`.")
    if "Pull" in problem:
        return "The node cannot pull istiod's image: check the image name and the node's network or registry access."
    return "`kubectl describe pod -n istio-system -l app=istiod` and `kubectl logs -n istio-system deploy/istiod` say why."


def gateway_api_crds(client: ClusterClient) -> dict:
    """Which Gateway API CRDs exist, their bundle version and channel, and grpcroutes' stored versions."""
    ref = client.resource("apiextensions.k8s.io/v1", "CustomResourceDefinition")
    found = {}
    for plural in GATEWAY_API_CRDS:
        crd = client.get(ref, None, f"{plural}.gateway.networking.k8s.io")
        if crd is not None:
            notes = (crd.get("metadata") or {}).get("annotations") or {}
            found[plural] = {"bundle_version": notes.get(BUNDLE_ANNOTATION), "channel": notes.get(CHANNEL_ANNOTATION),
                             "stored_versions": (crd.get("status") or {}).get("storedVersions") or []}
    versions = sorted({v["bundle_version"] or "unknown" for v in found.values()})
    return {"present": bool(found), "crds": found, "bundle_version": versions[-1] if versions else None,
            "versions": versions, "channel": next((v["channel"] for v in found.values() if v["channel"]), None)}


def crd_version_finding(crds: dict) -> Finding:
    """Explain what lesson 3 will do with the CRDs already there."""
    version, channel = crds["bundle_version"], crds["channel"] or "unknown"
    found = f"Gateway API CRDs {', '.join(crds['versions'])} ({channel} channel): {', '.join(crds['crds'])}"
    stored = (crds["crds"].get("grpcroutes") or {}).get("stored_versions") or []
    if "v1alpha2" in stored:
        return Finding("gateway-api", "block", "Gateway API CRDs", found + "; grpcroutes still stores v1alpha2",
                       "Applying v1.3.0 fails: `status.storedVersions[0]: Invalid value: \"v1alpha2\": must appear in "
                       "spec.versions`.", "Follow the Gateway API v1.2 upgrade notes: migrate GRPCRoutes to v1, then "
                       "remove v1alpha2 from the CRD's status.storedVersions.")
    parsed, pinned = version_tuple(version), version_tuple(TUTORIAL_GATEWAY_API)
    if parsed == pinned and channel in ("standard", "unknown"):
        return Finding("gateway-api", "ok", "Gateway API CRDs", found, "Lesson 3's apply changes nothing.")
    if parsed is None or parsed < pinned:
        return Finding("gateway-api", "info", "Gateway API CRDs", found,
                       "Lesson 3 upgrades them to v1.3.0 in place; objects you already have stay.")
    if parsed > pinned:
        return Finding("gateway-api", "warn", "Gateway API CRDs", found,
                       f"Applying v1.3.0 would downgrade CRDs that other software here may rely on. The tutorial "
                       f"only uses fields that exist in every v1 release, so it works with {version}.",
                       "Keep yours: in lesson 3 skip the CRD step (mark it done) and go on. Downgrade only on a "
                       "throwaway cluster.")
    return Finding("gateway-api", "warn", "Gateway API CRDs", found,
                   "Lesson 3 applies the standard channel over the experimental one: experimental kinds stay, but "
                   "experimental fields disappear from the standard kinds.",
                   "Keep the experimental CRDs if something here uses them; skip lesson 3's CRD step.")


def pairing_finding(crd_version: str | None, istio_version: str | None) -> Finding | None:
    """Whether this istiod and these CRDs go together (FACTS.md section 0)."""
    minor, crds = minor_of(istio_version), version_tuple(crd_version)
    if minor is None or crds is None:
        return None
    built = ISTIO_GATEWAY_API.get(minor)
    found = f"Istio {istio_version} (built against Gateway API {built or 'unknown'}) with CRDs {crd_version}"
    if minor <= 29 and crds >= (1, 5, 0):
        return Finding("pairing", "block", "Istio and Gateway API", found,
                       "Istio 1.29 and older never become Ready with Gateway API v1.5+ CRDs (istio/istio#59443).",
                       "Install the CRDs your Istio supports (v1.3.0 for Istio 1.26/1.27), or upgrade Istio.")
    if minor <= 21 and crds >= (1, 2, 0):
        return Finding("pairing", "block", "Istio and Gateway API", found,
                       "This Istio watches GRPCRoute v1alpha2, which v1.2+ CRDs no longer serve.",
                       "Upgrade Istio to 1.27 (the release built against Gateway API v1.3.0).")
    if built and version_tuple(built)[:2] == crds[:2]:
        return Finding("pairing", "ok", "Istio and Gateway API", found)
    return Finding("pairing", "warn", "Istio and Gateway API", found,
                   "They were not built for each other; kinds or fields one knows the other may ignore.",
                   "For this tutorial: Istio 1.27 with Gateway API v1.3.0.")


def istio_finding(report: Preflight, client: ClusterClient) -> None:
    istio = find_istio(client)
    report.facts["istio"] = istio
    if istio is None:
        report.add(Finding("istio", "ok", "Istio", "no istiod Deployment on the cluster",
                           "Lesson 2 installs Istio 1.27 from scratch."))
        return
    where = f"istiod {istio['version'] or '(unknown version)'} in {istio['namespace']}, revision {istio['revision']}" \
            f", installed by {istio['installer']}"
    if not istio["ready"]:
        report.add(Finding("istio", "block", "Istio", f"{where}, but not ready: {istio['problem']}",
                           "Without a ready istiod no Gateway is programmed: lessons 3 to 6 cannot pass.",
                           istiod_fix(istio["problem"])))
        return
    minor = minor_of(istio["version"])
    severity = "info" if minor in (26, 27) else "warn"
    report.add(Finding("istio", severity, "Istio", f"{where}, ready",
                       "Lesson 2 becomes \"verify what you have\": the tutorial checks this istiod instead "
                       "of installing another one." + ("" if severity == "info" else
                       f" The tutorial is written for Istio 1.27 (built against Gateway API v1.3.0); "
                       f"{istio['version']} may show different status messages."),
                       "" if severity == "info" else "Keep it if it is yours to keep; on a throwaway cluster "
                       "you may uninstall it and let lesson 2 install 1.27."))


def crd_finding(report: Preflight, client: ClusterClient) -> None:
    crds = gateway_api_crds(client)
    report.facts["gateway_api"] = crds
    if not crds["present"]:
        report.add(Finding("gateway-api", "ok", "Gateway API CRDs", "not installed",
                           "Lesson 3 installs the v1.3.0 standard channel."))
        return
    istio = report.facts.get("istio") or {}
    pairing = pairing_finding(crds.get("bundle_version"), istio.get("version") or TUTORIAL_ISTIO)
    if pairing is not None and not istio:  # no Istio yet: what blocks the one lesson 2 installs matters
        pairing = pairing if pairing.severity == "block" else None
        if pairing is not None:
            pairing.found = f"no Istio yet; lesson 2 installs {pairing.found}"
    finding = crd_version_finding(crds)
    if pairing is not None and pairing.severity == "block":  # never "keep yours" next to a blocker
        from tutorial.engine.preflight_crds import newer_crds_fix

        report.facts["gateway_api_blocked"] = True
        finding = Finding(finding.id, "block", finding.title, finding.found,
                          "These CRDs are newer than the Istio here supports: remove what the newer bundle added, "
                          "then lesson 3 installs v1.3.0.", newer_crds_fix(client))
    report.add(finding)
    report.add(pairing)


def rbac_finding(report: Preflight, client: ClusterClient) -> None:
    from tutorial.engine.safety import access_reviews, rbac_findings

    report.add(*rbac_findings(access_reviews(client), report.facts))


# -- all together -------------------------------------------------------------------

def run_preflight(target, client: ClusterClient | None = None, *, tools: bool = True) -> Preflight:
    """Every finding for this target; never raises for cluster trouble."""
    report = Preflight()
    if tools:
        from dataclasses import replace

        # Version questions need no cluster: no context flag (the simulated helm rejects a global one).
        tool_findings(report, tool_versions(replace(target.run_target(), context=None)))
    own = client is None
    client = client or ClusterClient(target.kubeconfig, target.context)
    try:
        nodes = cluster_basics(report, client, target)
        if nodes is None:
            return report
        try:
            kind = kind_finding(report, nodes, target.context)
            loadbalancer_finding(report, client, kind, nodes)
            istio_finding(report, client)
            crd_finding(report, client)
            from tutorial.engine.preflight_gateways import held_port_findings

            report.add(*held_port_findings(client))
            rbac_finding(report, client)
        except ClusterError as exc:  # the cluster went away half-way
            report.facts["reachable"] = not exc.unreachable
            report.add(Finding("cluster.error", "block", "cluster", f"stopped looking: {exc}",
                               "The remaining findings are missing.", "Run doctor again once the cluster answers."))
    finally:
        if own:
            client.close()
    return report


def summary_line(report: Preflight) -> str:
    counts = {s: sum(1 for f in report.findings if f.severity == s) for s in SEVERITIES}
    if report.unreachable:
        return "The cluster does not answer: nothing past lesson 0 can run."
    if counts["block"]:
        return f"{counts['block']} problem(s) block the lessons; {counts['warn']} warning(s)."
    return f"Nothing blocks the lessons; {counts['warn']} warning(s)."



def adaptation_facts(report: Preflight) -> dict[str, Any]:
    """Flat facts steps can branch on (see docs/environments.md): what doctor found, in one level."""
    facts = report.facts
    istio, crds = facts.get("istio") or {}, facts.get("gateway_api") or {}
    return {"reachable": facts.get("reachable"), "cluster_kind": facts.get("cluster_kind"),
            "sandbox": facts.get("sandbox"), "lb_available": facts.get("lb_available"),
            "istio_installed": bool(istio), "istio_ready": bool(istio.get("ready")),
            "istio_version": istio.get("version"), "istio_installer": istio.get("installer"),
            "istio_revision": istio.get("revision"), "gateway_api_present": bool(crds.get("present")),
            "gateway_api_version": crds.get("bundle_version"), "gateway_api_channel": crds.get("channel"),
            "gateway_api_newer": (version_tuple(crds.get("bundle_version")) or (0,)) > version_tuple(TUTORIAL_GATEWAY_API)
            and not facts.get("gateway_api_blocked")}  # too new for this Istio: lesson 3 must replace them
