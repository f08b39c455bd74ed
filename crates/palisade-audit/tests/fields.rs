//! Every `ka.*` / `jevt.*` field on real audit events: Falco's k8s audit
//! test events and a real API server log (`$PALISADE_SHARED_DATA/k8saudit`),
//! plus the Palisade test events for fields those samples lack.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::PathBuf;

use palisade_audit::{AuditEvent, AuditField, FieldValue, FIELDS};

#[derive(Debug, Clone, Copy)]
enum Want {
    Absent,
    Str(&'static str),
    List(&'static [&'static str]),
    U64(u64),
}
use Want::{Absent, List, Str, U64};

/// (sample, line, field, argument, expected)
type Row = (
    &'static str,
    usize,
    &'static str,
    Option<&'static str>,
    Want,
);

const TRACES: &str = "k8saudit/falco-tests/test/trace_files/k8s_audit/";

const ROWS: &[Row] = &[
    // A privileged pod created by the ReplicaSet controller.
    (
        "create_nginx_pod_privileged.json",
        1,
        "ka.auditid",
        None,
        Str("a362d22b-db3c-4590-9505-23782f12925f"),
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "ka.stage",
        None,
        Str("ResponseComplete"),
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "ka.auth.decision",
        None,
        Str("allow"),
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "ka.user.name",
        None,
        Str("system:serviceaccount:kube-system:replicaset-controller"),
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "ka.user.groups",
        None,
        List(&[
            "system:serviceaccounts",
            "system:serviceaccounts:kube-system",
            "system:authenticated",
        ]),
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "ka.impuser.name",
        None,
        Absent,
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "ka.verb",
        None,
        Str("create"),
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "ka.uri",
        None,
        Str("/api/v1/namespaces/default/pods"),
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "ka.target.name",
        None,
        Absent,
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "ka.target.namespace",
        None,
        Str("default"),
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "ka.target.resource",
        None,
        Str("pods"),
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "ka.target.subresource",
        None,
        Absent,
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "ka.req.pod.containers.image",
        None,
        List(&["nginx"]),
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "ka.req.pod.containers.image",
        Some("0"),
        List(&["nginx"]),
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "ka.req.pod.containers.image",
        Some("1"),
        Absent,
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "ka.req.pod.containers.image.repository",
        None,
        List(&["nginx"]),
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "ka.req.pod.containers.privileged",
        None,
        List(&["true"]),
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "ka.req.pod.containers.name",
        None,
        List(&["nginx"]),
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "ka.req.pod.containers.eff_run_as_user",
        None,
        List(&["0"]),
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "ka.req.pod.containers.add_capabilities",
        None,
        List(&[]),
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "ka.req.pod.initContainers.image",
        None,
        Absent,
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "ka.req.container.image",
        None,
        Str("nginx"),
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "ka.req.container.image.repository",
        None,
        Str("nginx"),
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "ka.req.container.privileged",
        None,
        Str("true"),
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "ka.req.pod.host_network",
        None,
        Absent,
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "ka.req.pod.volumes.hostpath",
        None,
        Absent,
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "ka.resp.name",
        None,
        Str("nginx-deployment-5cdcc99dbf-rgw6z"),
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "ka.response.code",
        None,
        Str("201"),
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "ka.response.reason",
        None,
        Absent,
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "ka.sourceips",
        None,
        List(&["::1"]),
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "ka.sourceips",
        Some("0"),
        List(&["::1"]),
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "ka.useragent",
        None,
        Absent,
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "ka.cluster.name",
        None,
        Absent,
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "jevt.rawtime",
        None,
        U64(1_540_476_552_581_541_000),
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "json.rawtime",
        None,
        U64(1_540_476_552_581_541_000),
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "jevt.time",
        None,
        Str("14:09:12.581541000"),
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "jevt.time.iso8601",
        None,
        Str("2018-10-25T14:09:12.581541000Z"),
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "jevt.value",
        Some("/stage"),
        Str("ResponseComplete"),
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "jevt.value",
        Some("/annotations/authorization.k8s.io~1decision"),
        Str("allow"),
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "jevt.value",
        Some("/a~1~0b"),
        Absent,
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "jevt.value",
        Some("/requestObject/spec/containers/0/securityContext"),
        Str(r#"{"privileged":true}"#),
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "jevt.value",
        Some("/responseStatus/code"),
        Str("201"),
    ),
    (
        "create_nginx_pod_privileged.json",
        1,
        "json.value",
        Some("/verb"),
        Str("create"),
    ),
    // Second container privileged, first without a security context.
    (
        "create_nginx_pod_no_secctx_1st_container_privileged_2nd_container.json",
        1,
        "ka.req.pod.containers.image",
        None,
        List(&["nginx", "mysql:latest"]),
    ),
    (
        "create_nginx_pod_no_secctx_1st_container_privileged_2nd_container.json",
        1,
        "ka.req.pod.containers.image.repository",
        None,
        List(&["nginx", "mysql"]),
    ),
    (
        "create_nginx_pod_no_secctx_1st_container_privileged_2nd_container.json",
        1,
        "ka.req.pod.containers.image",
        Some("1"),
        List(&["mysql:latest"]),
    ),
    (
        "create_nginx_pod_no_secctx_1st_container_privileged_2nd_container.json",
        1,
        "ka.req.pod.containers.privileged",
        None,
        List(&["true"]),
    ),
    (
        "create_nginx_pod_no_secctx_1st_container_privileged_2nd_container.json",
        1,
        "ka.req.pod.containers.privileged",
        Some("0"),
        List(&[]),
    ),
    (
        "create_nginx_pod_no_secctx_1st_container_privileged_2nd_container.json",
        1,
        "ka.req.container.privileged",
        None,
        Str("true"),
    ),
    (
        "create_nginx_pod_privileged_2nd_container.json",
        1,
        "ka.req.container.image",
        None,
        Str("nginx"),
    ),
    // Host network and host paths.
    (
        "create_nginx_pod_hostnetwork.json",
        1,
        "ka.req.pod.host_network",
        None,
        Str("true"),
    ),
    (
        "create_nginx_pod_hostnetwork.json",
        1,
        "ka.req.container.host_network",
        None,
        Str("true"),
    ),
    (
        "create_nginx_pod_nohostnetwork.json",
        1,
        "ka.req.pod.host_network",
        None,
        Absent,
    ),
    (
        "create_nginx_pod_sensitive_mount.json",
        1,
        "ka.req.pod.volumes.hostpath",
        None,
        List(&["/etc"]),
    ),
    (
        "create_nginx_pod_sensitive_mount.json",
        1,
        "ka.req.pod.volumes.volume_type",
        None,
        List(&["hostPath"]),
    ),
    (
        "create_nginx_pod_sensitive_mount.json",
        1,
        "ka.req.volume.hostpath",
        Some("/etc"),
        Str("true"),
    ),
    (
        "create_nginx_pod_sensitive_mount.json",
        1,
        "ka.req.volume.hostpath",
        Some("/e*"),
        Str("true"),
    ),
    (
        "create_nginx_pod_sensitive_mount.json",
        1,
        "ka.req.volume.hostpath",
        Some("/proc*"),
        Str("false"),
    ),
    // This event has only a responseObject: request fields are absent.
    (
        "create_nginx_pod_unsensitive_mount.json",
        1,
        "ka.req.pod.volumes.hostpath",
        None,
        Absent,
    ),
    (
        "create_nginx_pod_sensitive_mount_2nd_container.json",
        1,
        "ka.req.pod.containers.name",
        None,
        List(&["nginx1", "mysql"]),
    ),
    // exec and attach.
    ("exec_pod.json", 1, "ka.stage", None, Str("ResponseStarted")),
    (
        "exec_pod.json",
        1,
        "ka.target.subresource",
        None,
        Str("exec"),
    ),
    (
        "exec_pod.json",
        1,
        "ka.target.name",
        None,
        Str("nginx-deployment-7998647bdf-phvq7"),
    ),
    (
        "exec_pod.json",
        1,
        "ka.uri.param",
        Some("command"),
        Str("bash"),
    ),
    (
        "exec_pod.json",
        1,
        "ka.uri.param",
        Some("container"),
        Str("nginx1"),
    ),
    ("exec_pod.json", 1, "ka.uri.param", Some("tty"), Str("true")),
    ("exec_pod.json", 1, "ka.uri.param", Some("user"), Absent),
    ("exec_pod.json", 1, "ka.response.code", None, Str("101")),
    ("exec_pod.json", 1, "ka.auth.reason", None, Str("")),
    (
        "exec_pod.json",
        1,
        "ka.user.groups",
        None,
        List(&["system:masters", "system:authenticated"]),
    ),
    (
        "attach_pod.json",
        1,
        "ka.target.subresource",
        None,
        Str("attach"),
    ),
    // RBAC.
    (
        "attach_cluster_admin_role.json",
        1,
        "ka.req.binding.role",
        None,
        Str("cluster-admin"),
    ),
    (
        "attach_cluster_admin_role.json",
        1,
        "ka.req.binding.subjects",
        None,
        List(&[r#"{"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":"minikube"}"#]),
    ),
    (
        "attach_cluster_admin_role.json",
        1,
        "ka.req.binding.subjects.name",
        None,
        List(&["minikube"]),
    ),
    (
        "attach_cluster_admin_role.json",
        1,
        "ka.req.binding.subjects.kind",
        None,
        List(&["User"]),
    ),
    (
        "attach_cluster_admin_role.json",
        1,
        "ka.req.binding.role.kind",
        None,
        Str("ClusterRole"),
    ),
    (
        "attach_cluster_admin_role.json",
        1,
        "ka.req.binding.subject.has_name",
        Some("cluster-admin"),
        Str("true"),
    ),
    (
        "attach_cluster_admin_role.json",
        1,
        "ka.target.apigroup",
        None,
        Str("rbac.authorization.k8s.io"),
    ),
    (
        "create_cluster_role_wildcard_verbs.json",
        1,
        "ka.req.role.rules.verbs",
        None,
        List(&["*", "get"]),
    ),
    (
        "create_cluster_role_wildcard_verbs.json",
        1,
        "ka.req.role.rules.verbs",
        Some("1"),
        List(&["get"]),
    ),
    (
        "create_cluster_role_wildcard_verbs.json",
        1,
        "ka.req.role.rules.resources",
        None,
        List(&["pods"]),
    ),
    (
        "create_cluster_role_wildcard_verbs.json",
        1,
        "ka.req.role.rules.apiGroups",
        None,
        List(&[""]),
    ),
    (
        "create_cluster_role_wildcard_verbs.json",
        1,
        "ka.req.role.rules.nonResourceURLs",
        Some("0"),
        List(&[]),
    ),
    (
        "create_cluster_role_wildcard_verbs.json",
        1,
        "ka.req.role.rules",
        None,
        List(&[
            r#"{"apiGroups":[""],"resources":["pods"],"verbs":["*"]}"#,
            r#"{"nonResourceURLs":["/api","/api/*","/apis","/apis/*","/healthz","/openapi","/openapi/*","/swagger-2.0.0.pb-v1","/swagger.json","/swaggerapi","/swaggerapi/*","/version","/version/"],"verbs":["get"]}"#,
        ]),
    ),
    (
        "create_cluster_role_wildcard_resources.json",
        1,
        "ka.req.role.rules.resources",
        None,
        List(&["*"]),
    ),
    (
        "create_cluster_role_pod_exec.json",
        1,
        "ka.req.role.rules.resources",
        None,
        List(&["pods/exec"]),
    ),
    (
        "modify_cluster_role_node_problem_detector.json",
        1,
        "ka.target.name",
        None,
        Str("system:node-problem-detector"),
    ),
    // Services and config maps.
    (
        "create_nginx_service_nodeport.json",
        1,
        "ka.req.service.type",
        None,
        Str("NodePort"),
    ),
    (
        "create_nginx_service_nodeport.json",
        1,
        "ka.req.service.ports",
        None,
        List(&[r#"{"nodePort":30080,"port":80,"protocol":"TCP","targetPort":80}"#]),
    ),
    (
        "create_nginx_service_nonodeport.json",
        1,
        "ka.req.service.type",
        None,
        Str("ClusterIP"),
    ),
    (
        "create_configmap_sensitive_values.json",
        1,
        "ka.req.configmap.name",
        None,
        Str("my-config"),
    ),
    (
        "create_configmap_sensitive_values.json",
        1,
        "ka.req.configmap.obj",
        None,
        Str(
            r#"{"access.properties":"aws_access_key_id = MY-ID\naws_secret_access_key = MY-KEY\n","ui.properties":"color.good=purple\ncolor.bad=yellow\nallow.textmode=true\n"}"#,
        ),
    ),
    // Anonymous, service account tokens.
    (
        "anonymous_creates_namespace_foo.json",
        1,
        "ka.user.name",
        None,
        Str("system:anonymous"),
    ),
    (
        "anonymous_creates_namespace_foo.json",
        1,
        "ka.target.name",
        None,
        Str("foo"),
    ),
    (
        "create_service_account_token_secret.json",
        1,
        "ka.useragent",
        None,
        Str("kube-controller-manager/v1.17.3 (linux/amd64) kubernetes/06ad960/tokens-controller"),
    ),
    (
        "create_service_account_token_secret.json",
        1,
        "ka.sourceips",
        None,
        List(&["127.0.0.1"]),
    ),
    // A real API server log: impersonation and a 403.
    (
        "../../../../samples/audit2rbac/demo.log",
        1,
        "ka.user.name",
        None,
        Str("system:admin"),
    ),
    (
        "../../../../samples/audit2rbac/demo.log",
        1,
        "ka.impuser.name",
        None,
        Str("bob"),
    ),
    (
        "../../../../samples/audit2rbac/demo.log",
        1,
        "ka.impuser.groups",
        None,
        List(&["system:authenticated"]),
    ),
    (
        "../../../../samples/audit2rbac/demo.log",
        1,
        "ka.response.code",
        None,
        Str("403"),
    ),
    (
        "../../../../samples/audit2rbac/demo.log",
        1,
        "ka.response.reason",
        None,
        Str("Forbidden"),
    ),
    (
        "../../../../samples/audit2rbac/demo.log",
        1,
        "ka.auth.decision",
        None,
        Absent,
    ),
    (
        "../../../../samples/audit2rbac/demo.log",
        1,
        "ka.verb",
        None,
        Str("list"),
    ),
    (
        "../../../../samples/audit2rbac/demo.log",
        1,
        "jevt.rawtime",
        None,
        U64(1_505_159_705_000_000_000),
    ),
    (
        "../../../../samples/audit2rbac/demo.log",
        2,
        "ka.uri.param",
        Some("includeUninitialized"),
        Str("true"),
    ),
];

fn load(sample: &str, line: usize) -> AuditEvent {
    let path: PathBuf = common::shared_data_dir().join(TRACES).join(sample);
    let events = common::events_of(&path);
    events
        .into_iter()
        .find(|e| e.origin().and_then(|o| o.line) == Some(line as u64))
        .unwrap_or_else(|| panic!("{}: no event on line {line}", path.display()))
}

fn check(e: &AuditEvent, field: &str, arg: Option<&str>, want: Want) -> Result<(), String> {
    let f = AuditField::resolve(field, arg).map_err(|e| e.to_string())?;
    let got = e.field(&f);
    let ok = match (&got, want) {
        (None, Absent) => true,
        (Some(FieldValue::Str(s)), Str(w)) => s == w,
        (Some(FieldValue::U64(n)), U64(w)) => *n == w,
        (Some(FieldValue::List(l)), List(w)) => l.iter().map(|s| s.as_ref()).eq(w.iter().copied()),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{field}{}: got {got:?}, want {want:?}",
            arg.map(|a| format!("[{a}]")).unwrap_or_default()
        ))
    }
}

#[test]
fn fields_on_real_samples() {
    if common::require_shared(TRACES, "fields_on_real_samples").is_none() {
        return;
    }
    let mut failures = Vec::new();
    for (sample, line, field, arg, want) in ROWS {
        let e = load(sample, *line);
        if let Err(msg) = check(&e, field, *arg, *want) {
            failures.push(format!("{sample}:{line}: {msg}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `jevt.obj` is the event as compact JSON, equal to what serde_json makes
/// of it.
#[test]
fn jevt_obj_is_the_whole_event() {
    if common::require_shared(TRACES, "jevt_obj_is_the_whole_event").is_none() {
        return;
    }
    let e = load("create_nginx_pod_privileged.json", 1);
    let f = AuditField::resolve("jevt.obj", None).unwrap();
    let Some(FieldValue::Str(obj)) = e.field(&f) else {
        panic!()
    };
    let a: serde_json::Value = serde_json::from_str(&obj).unwrap();
    let b: serde_json::Value = serde_json::from_str(e.json()).unwrap();
    assert_eq!(a, b);
    assert!(!obj.contains('\n'));
}

/// Fields the shared samples lack, on Palisade's own test events.
#[test]
fn fields_on_palisade_events() {
    let ev = |name: &str| {
        common::events_of(&common::test_data(&format!("default-rules/{name}"))).remove(0)
    };
    let rows: &[(&str, &str, Option<&str>, Want)] = &[
        (
            "pod-with-dangerous-capabilities.fire.json",
            "ka.req.pod.containers.add_capabilities",
            None,
            List(&["SYS_ADMIN", "NET_RAW"]),
        ),
        (
            "pod-sharing-host-pid-namespace.fire.json",
            "ka.req.pod.host_pid",
            None,
            Str("true"),
        ),
        (
            "pod-sharing-host-ipc-namespace.fire.json",
            "ka.req.pod.host_ipc",
            None,
            Str("true"),
        ),
        (
            "pod-sharing-host-pid-namespace.fire.json",
            "ka.req.pod.containers.command",
            None,
            List(&["sleep", "3600"]),
        ),
        (
            "pod-mounting-sensitive-host-path.fire.json",
            "ka.req.pod.volumes.hostpath",
            None,
            List(&["/var/run/containerd/containerd.sock"]),
        ),
        (
            "pod-mounting-sensitive-host-path.miss.json",
            "ka.req.pod.volumes.hostpath",
            None,
            List(&["/mnt/data/cache"]),
        ),
        (
            "pod-mounting-sensitive-host-path.miss.json",
            "ka.req.pod.volumes.volume_type",
            None,
            List(&["hostPath", "emptyDir"]),
        ),
        (
            "pod-mounting-sensitive-host-path.miss.json",
            "ka.req.pod.volumes.hostpath",
            Some("1"),
            List(&[]),
        ),
        (
            "privileged-pod-created.miss.json",
            "ka.req.pod.containers.allow_privilege_escalation",
            None,
            List(&["false"]),
        ),
        (
            "crypto-mining-pod-created.fire.json",
            "ka.req.pod.containers.args",
            None,
            List(&[
                "-o",
                "stratum+tcp://pool.example.net:3333",
                "--donate-level",
                "1",
            ]),
        ),
        (
            "crypto-mining-pod-created.fire.json",
            "ka.req.pod.containers.image.repository",
            None,
            List(&["docker.io/metal3d/xmrig"]),
        ),
        (
            "ephemeral-debug-container-added.fire.json",
            "ka.req.pod.ephemeralContainers.image",
            None,
            List(&["busybox:1.36"]),
        ),
        (
            "ephemeral-debug-container-added.fire.json",
            "ka.req.pod.ephemeralContainers.name",
            None,
            List(&["debugger-8xk2p"]),
        ),
        (
            "privileged-identity-impersonated.fire.json",
            "ka.impuser.name",
            None,
            Str("system:kube-controller-manager"),
        ),
        (
            "privileged-identity-impersonated.fire.json",
            "ka.impuser.groups",
            None,
            List(&[]),
        ),
        (
            "service-account-token-secret-created-by-user.fire.json",
            "jevt.value",
            Some("/requestObject/metadata/annotations/kubernetes.io~1service-account.name"),
            Str("deployer"),
        ),
        (
            "binding-grants-access-to-anonymous-users.fire.json",
            "ka.req.binding.subjects.name",
            None,
            List(&["system:unauthenticated"]),
        ),
        (
            "exec-into-pod.fire.json",
            "ka.uri.param",
            Some("command"),
            Str("sh"),
        ),
        (
            "nodeport-service-created.fire.json",
            "ka.req.service.ports",
            Some("0"),
            List(&[
                r#"{"name":"http","port":80,"protocol":"TCP","targetPort":8080,"nodePort":30080}"#,
            ]),
        ),
        (
            "nodeport-service-created.fire.json",
            "ka.req.service.ports",
            Some("1"),
            Absent,
        ),
    ];
    let mut failures = Vec::new();
    for (file, field, arg, want) in rows {
        if let Err(msg) = check(&ev(file), field, *arg, *want) {
            failures.push(format!("{file}: {msg}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every catalog field resolves and extracts on every sample without
/// panicking, and the pod fields of the security-context family answer on
/// a pod.
#[test]
fn every_field_extracts_on_every_sample() {
    let Some(dir) = common::require_shared(TRACES, "every_field_extracts_on_every_sample") else {
        return;
    };
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        for e in palisade_audit::scan_files([&path]).flatten() {
            for info in FIELDS {
                let arg = match info.arg {
                    palisade_audit::fields::ArgKind::Key => Some("x"),
                    palisade_audit::fields::ArgKind::Pointer => Some("/requestObject"),
                    _ => None,
                };
                let f = AuditField::resolve(info.name, arg).unwrap();
                let _ = e.field(&f);
                n += 1;
            }
        }
    }
    assert!(n > 46 * 100, "{n}");
}
