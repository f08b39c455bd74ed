//! The `ka.*` and `jevt.*` fields of Kubernetes audit events, as Falco's
//! `k8saudit` and `json` plugins define them.
//!
//! A rule names a field (`ka.req.pod.containers.image[0]`); the rule engine
//! resolves the name and argument once with [`AuditField::resolve`] and then
//! asks every event for it with [`AuditEvent::field`]. [`FIELDS`] lists every
//! field with its argument, whether it is a list, and what it means.
//!
//! Values follow the plugin: a JSON string yields its contents, anything
//! else (numbers, booleans, objects) its compact JSON text, so
//! `ka.response.code` is `"201"` and `ka.req.pod.host_network` is `"true"`.
//! A field whose data is not in the event yields `None` (Falco: the field
//! does not exist); a list field whose array exists yields a (possibly
//! empty) list. An index argument (`…image[1]`) selects one element of the
//! array the field walks (a container, a role rule, a volume).
//!
//! Where the plugin's code departs from its documentation, Palisade follows
//! the documentation:
//! - `…containers.image.repository` cuts the tag after the last `/`, so a
//!   registry port stays (`registry:5000/app`, not `registry`);
//! - `…containers.add_capabilities` lists each capability, not one JSON
//!   array per container;
//! - the security-context flags (`allow_privilege_escalation`,
//!   `read_only_fs`, `run_as_user`, …) skip containers that do not set them
//!   instead of failing the whole field, as `privileged` already does;
//! - `eff_run_as_user`/`eff_run_as_group` fall back to the pod's
//!   `securityContext`, then 0;
//! - `…containers.host_port` lists `hostPort`s, and `containerPort`s only
//!   when the pod uses the host network (where they are host ports).
//!
//! `ka.req.binding.subject.has_name[…]` answers `"true"`, as Falco's code
//! does (its documentation says N/A).

use std::borrow::Cow;
use std::fmt;

use crate::json;
use crate::time::{format_rfc3339_nanos, format_time_of_day};
use crate::AuditEvent;

/// A field's value for one event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldValue<'a> {
    /// A single string.
    Str(Cow<'a, str>),
    /// A number (`jevt.rawtime`).
    U64(u64),
    /// The values of a list field (possibly empty).
    List(Vec<Cow<'a, str>>),
}

impl FieldValue<'_> {
    /// The value as a single string when it is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            FieldValue::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A copy that owns its data.
    pub fn into_owned(self) -> FieldValue<'static> {
        match self {
            FieldValue::Str(s) => FieldValue::Str(Cow::Owned(s.into_owned())),
            FieldValue::U64(n) => FieldValue::U64(n),
            FieldValue::List(l) => {
                FieldValue::List(l.into_iter().map(|s| Cow::Owned(s.into_owned())).collect())
            }
        }
    }
}

/// Falco's rendering in alert output: lists as `(a,b)`.
impl fmt::Display for FieldValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::Str(s) => f.write_str(s),
            FieldValue::U64(n) => write!(f, "{n}"),
            FieldValue::List(l) => {
                f.write_str("(")?;
                for (i, s) in l.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    f.write_str(s)?;
                }
                f.write_str(")")
            }
        }
    }
}

/// What argument a field takes (`name[arg]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgKind {
    /// No argument.
    None,
    /// An optional index into the list the field walks (`…image[0]`).
    Index,
    /// A required key (`ka.uri.param[command]`).
    Key,
    /// A required RFC 6901 JSON pointer (`jevt.value[/objectRef/name]`).
    Pointer,
}

/// The type of a field's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    /// Strings.
    String,
    /// Unsigned 64-bit numbers.
    U64,
}

/// One entry of the field catalog.
#[derive(Clone, Copy, Debug)]
pub struct FieldInfo {
    /// The field name without argument.
    pub name: &'static str,
    /// Its argument.
    pub arg: ArgKind,
    /// Whether it yields a list of values.
    pub list: bool,
    /// The type of its values.
    pub ty: FieldType,
    /// What it means.
    pub desc: &'static str,
    kind: Kind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum ContainerSet {
    Containers,
    Init,
    Ephemeral,
}

impl ContainerSet {
    fn key(self) -> &'static str {
        match self {
            ContainerSet::Containers => "containers",
            ContainerSet::Init => "initContainers",
            ContainerSet::Ephemeral => "ephemeralContainers",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum ContainerProp {
    Name,
    Image,
    Repository,
    Command,
    Args,
    Privileged,
    AllowPrivilegeEscalation,
    ReadOnlyFs,
    RunAsUser,
    EffRunAsUser,
    RunAsGroup,
    EffRunAsGroup,
    ProcMount,
    AddCapabilities,
    HostPort,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum RulePart {
    ApiGroups,
    NonResourceUrls,
    Verbs,
    Resources,
}

impl RulePart {
    fn key(self) -> &'static str {
        match self {
            RulePart::ApiGroups => "apiGroups",
            RulePart::NonResourceUrls => "nonResourceURLs",
            RulePart::Verbs => "verbs",
            RulePart::Resources => "resources",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    AuditId,
    Stage,
    AuthDecision,
    AuthReason,
    UserName,
    UserGroups,
    ImpUserName,
    ImpUserGroups,
    Verb,
    Uri,
    UriParam,
    TargetName,
    TargetNamespace,
    TargetResource,
    TargetSubresource,
    TargetApiGroup,
    BindingSubjects,
    BindingSubjectNames,
    BindingSubjectKinds,
    BindingRole,
    BindingRoleRefType,
    BindingSubjectHasName,
    ConfigMapName,
    ConfigMapObj,
    Container(ContainerSet, ContainerProp),
    FirstContainerImage,
    FirstContainerRepository,
    AnyContainerPrivileged,
    PodHostIpc,
    PodHostNetwork,
    PodHostPid,
    PodRunAsUser,
    PodRunAsGroup,
    PodFsGroup,
    PodSupplementalGroups,
    PodServiceAccount,
    PodNodeName,
    RoleRules,
    RoleRulePart(RulePart),
    ServiceType,
    ServicePorts,
    VolumeHostPaths,
    VolumeHostPathMatch,
    VolumeFlexDrivers,
    VolumeTypes,
    RespName,
    ResponseCode,
    ResponseReason,
    UserAgent,
    SourceIps,
    ClusterName,
    JsonTime,
    JsonTimeIso8601,
    JsonRawTime,
    JsonValue,
    JsonObj,
}

const fn f(name: &'static str, kind: Kind, desc: &'static str) -> FieldInfo {
    FieldInfo {
        name,
        arg: ArgKind::None,
        list: false,
        ty: FieldType::String,
        desc,
        kind,
    }
}

const fn l(name: &'static str, kind: Kind, desc: &'static str) -> FieldInfo {
    FieldInfo {
        name,
        arg: ArgKind::Index,
        list: true,
        ty: FieldType::String,
        desc,
        kind,
    }
}

const fn c(
    name: &'static str,
    set: ContainerSet,
    prop: ContainerProp,
    desc: &'static str,
) -> FieldInfo {
    l(name, Kind::Container(set, prop), desc)
}

const fn with_arg(mut i: FieldInfo, arg: ArgKind) -> FieldInfo {
    i.arg = arg;
    i
}

const fn unindexed(mut i: FieldInfo) -> FieldInfo {
    i.arg = ArgKind::None;
    i
}

/// Every field an audit event offers.
pub static FIELDS: &[FieldInfo] = &[
    f("ka.auditid", Kind::AuditId, "The unique id of the audit event."),
    f("ka.stage", Kind::Stage, "Stage of the request (RequestReceived, ResponseStarted, ResponseComplete, Panic)."),
    f("ka.auth.decision", Kind::AuthDecision, "The authorization decision (annotation authorization.k8s.io/decision)."),
    f("ka.auth.reason", Kind::AuthReason, "The authorization reason (annotation authorization.k8s.io/reason)."),
    f("ka.user.name", Kind::UserName, "The user name performing the request."),
    unindexed(l("ka.user.groups", Kind::UserGroups, "The groups to which the user belongs.")),
    f("ka.impuser.name", Kind::ImpUserName, "The impersonated user name."),
    unindexed(l("ka.impuser.groups", Kind::ImpUserGroups, "The groups of the impersonated user (Palisade extension).")),
    f("ka.verb", Kind::Verb, "The action being performed."),
    f("ka.uri", Kind::Uri, "The request URI as sent from client to server."),
    with_arg(f("ka.uri.param", Kind::UriParam, "The value of a given query parameter in the uri (e.g. when uri=/foo?key=val, ka.uri.param[key] is val); the first one when repeated, percent-decoded."), ArgKind::Key),
    f("ka.target.name", Kind::TargetName, "The target object name."),
    f("ka.target.namespace", Kind::TargetNamespace, "The target object namespace."),
    f("ka.target.resource", Kind::TargetResource, "The target object resource."),
    f("ka.target.subresource", Kind::TargetSubresource, "The target object subresource."),
    f("ka.target.apigroup", Kind::TargetApiGroup, "The target object API group (Palisade extension)."),
    unindexed(l("ka.req.binding.subjects", Kind::BindingSubjects, "When the request object refers to a (cluster) role binding, the subjects being linked by the binding, each as compact JSON.")),
    unindexed(l("ka.req.binding.subjects.name", Kind::BindingSubjectNames, "When the request object refers to a (cluster) role binding, the names of its subjects (Palisade extension).")),
    unindexed(l("ka.req.binding.subjects.kind", Kind::BindingSubjectKinds, "When the request object refers to a (cluster) role binding, the kinds of its subjects: User, Group, ServiceAccount (Palisade extension).")),
    f("ka.req.binding.role", Kind::BindingRole, "When the request object refers to a (cluster) role binding, the role being linked by the binding."),
    f("ka.req.binding.role.kind", Kind::BindingRoleRefType, "When the request object refers to a (cluster) role binding, the kind of the role: Role or ClusterRole (Palisade extension)."),
    with_arg(f("ka.req.binding.subject.has_name", Kind::BindingSubjectHasName, "Deprecated; kept for old rules. Documented as N/A, returns \"true\" as Falco's implementation does."), ArgKind::Key),
    f("ka.req.configmap.name", Kind::ConfigMapName, "If the request object refers to a configmap, the configmap name."),
    f("ka.req.configmap.obj", Kind::ConfigMapObj, "If the request object refers to a configmap, its data, as compact JSON."),
    f("ka.req.container.image", Kind::FirstContainerImage, "Deprecated by ka.req.pod.containers.image. The image of the first container only."),
    f("ka.req.container.image.repository", Kind::FirstContainerRepository, "Deprecated by ka.req.pod.containers.image.repository. The repository of the first container only."),
    f("ka.req.container.privileged", Kind::AnyContainerPrivileged, "Deprecated by ka.req.pod.containers.privileged. \"true\" if any container has privileged=true, else \"false\"."),
    f("ka.req.pod.host_ipc", Kind::PodHostIpc, "When the request object refers to a pod, the value of the hostIPC flag."),
    f("ka.req.pod.host_network", Kind::PodHostNetwork, "When the request object refers to a pod, the value of the hostNetwork flag."),
    f("ka.req.container.host_network", Kind::PodHostNetwork, "Deprecated alias for ka.req.pod.host_network."),
    f("ka.req.pod.host_pid", Kind::PodHostPid, "When the request object refers to a pod, the value of the hostPID flag."),
    f("ka.req.pod.run_as_user", Kind::PodRunAsUser, "When the request object refers to a pod, the runAsUser uid of the pod's security context."),
    f("ka.req.pod.run_as_group", Kind::PodRunAsGroup, "When the request object refers to a pod, the runAsGroup gid of the pod's security context."),
    f("ka.req.pod.fs_group", Kind::PodFsGroup, "When the request object refers to a pod, the fsGroup gid of the pod's security context."),
    unindexed(l("ka.req.pod.supplemental_groups", Kind::PodSupplementalGroups, "When the request object refers to a pod, the supplementalGroups gids of the pod's security context.")),
    f("ka.req.pod.service_account", Kind::PodServiceAccount, "When the request object refers to a pod, its serviceAccountName (Palisade extension)."),
    f("ka.req.pod.node_name", Kind::PodNodeName, "When the request object refers to a pod, its spec.nodeName (Palisade extension)."),
    c("ka.req.pod.containers.name", ContainerSet::Containers, ContainerProp::Name, "When the request object is a pod, the names of the containers."),
    c("ka.req.pod.containers.image", ContainerSet::Containers, ContainerProp::Image, "When the request object is a pod, the images of the containers."),
    c("ka.req.pod.containers.image.repository", ContainerSet::Containers, ContainerProp::Repository, "When the request object is a pod, the repository part of the images of the containers (no tag or digest, e.g. falcosecurity/falco)."),
    c("ka.req.pod.containers.command", ContainerSet::Containers, ContainerProp::Command, "When the request object is a pod, the command elements of the containers."),
    c("ka.req.pod.containers.args", ContainerSet::Containers, ContainerProp::Args, "When the request object is a pod, the args elements of the containers."),
    c("ka.req.pod.containers.privileged", ContainerSet::Containers, ContainerProp::Privileged, "When the request object is a pod, the privileged flag of the containers that set it."),
    c("ka.req.pod.containers.allow_privilege_escalation", ContainerSet::Containers, ContainerProp::AllowPrivilegeEscalation, "When the request object is a pod, the allowPrivilegeEscalation flag of the containers that set it."),
    c("ka.req.pod.containers.read_only_fs", ContainerSet::Containers, ContainerProp::ReadOnlyFs, "When the request object is a pod, the readOnlyRootFilesystem flag of the containers that set it."),
    c("ka.req.pod.containers.run_as_user", ContainerSet::Containers, ContainerProp::RunAsUser, "When the request object is a pod, the runAsUser uid of the containers that set it."),
    c("ka.req.pod.containers.eff_run_as_user", ContainerSet::Containers, ContainerProp::EffRunAsUser, "When the request object is a pod, the uid each of the containers starts with: its own runAsUser, else the pod's, else 0."),
    c("ka.req.pod.containers.run_as_group", ContainerSet::Containers, ContainerProp::RunAsGroup, "When the request object is a pod, the runAsGroup gid of the containers that set it."),
    c("ka.req.pod.containers.eff_run_as_group", ContainerSet::Containers, ContainerProp::EffRunAsGroup, "When the request object is a pod, the gid each of the containers starts with: its own runAsGroup, else the pod's, else 0."),
    c("ka.req.pod.containers.proc_mount", ContainerSet::Containers, ContainerProp::ProcMount, "When the request object is a pod, the procMount type of the containers that set it."),
    c("ka.req.pod.containers.add_capabilities", ContainerSet::Containers, ContainerProp::AddCapabilities, "When the request object is a pod, every capability added by the containers."),
    c("ka.req.pod.containers.host_port", ContainerSet::Containers, ContainerProp::HostPort, "When the request object is a pod, the host ports of the containers (hostPort, or containerPort when the pod uses the host network)."),
    c("ka.req.pod.initContainers.name", ContainerSet::Init, ContainerProp::Name, "When the request object is a pod, the names of the init containers."),
    c("ka.req.pod.initContainers.image", ContainerSet::Init, ContainerProp::Image, "When the request object is a pod, the images of the init containers."),
    c("ka.req.pod.initContainers.image.repository", ContainerSet::Init, ContainerProp::Repository, "When the request object is a pod, the repository part of the images of the init containers (no tag or digest, e.g. falcosecurity/falco)."),
    c("ka.req.pod.initContainers.command", ContainerSet::Init, ContainerProp::Command, "When the request object is a pod, the command elements of the init containers."),
    c("ka.req.pod.initContainers.args", ContainerSet::Init, ContainerProp::Args, "When the request object is a pod, the args elements of the init containers."),
    c("ka.req.pod.initContainers.privileged", ContainerSet::Init, ContainerProp::Privileged, "When the request object is a pod, the privileged flag of the init containers that set it."),
    c("ka.req.pod.initContainers.allow_privilege_escalation", ContainerSet::Init, ContainerProp::AllowPrivilegeEscalation, "When the request object is a pod, the allowPrivilegeEscalation flag of the init containers that set it."),
    c("ka.req.pod.initContainers.read_only_fs", ContainerSet::Init, ContainerProp::ReadOnlyFs, "When the request object is a pod, the readOnlyRootFilesystem flag of the init containers that set it."),
    c("ka.req.pod.initContainers.run_as_user", ContainerSet::Init, ContainerProp::RunAsUser, "When the request object is a pod, the runAsUser uid of the init containers that set it."),
    c("ka.req.pod.initContainers.eff_run_as_user", ContainerSet::Init, ContainerProp::EffRunAsUser, "When the request object is a pod, the uid each of the init containers starts with: its own runAsUser, else the pod's, else 0."),
    c("ka.req.pod.initContainers.run_as_group", ContainerSet::Init, ContainerProp::RunAsGroup, "When the request object is a pod, the runAsGroup gid of the init containers that set it."),
    c("ka.req.pod.initContainers.eff_run_as_group", ContainerSet::Init, ContainerProp::EffRunAsGroup, "When the request object is a pod, the gid each of the init containers starts with: its own runAsGroup, else the pod's, else 0."),
    c("ka.req.pod.initContainers.proc_mount", ContainerSet::Init, ContainerProp::ProcMount, "When the request object is a pod, the procMount type of the init containers that set it."),
    c("ka.req.pod.initContainers.add_capabilities", ContainerSet::Init, ContainerProp::AddCapabilities, "When the request object is a pod, every capability added by the init containers."),
    c("ka.req.pod.initContainers.host_port", ContainerSet::Init, ContainerProp::HostPort, "When the request object is a pod, the host ports of the init containers (hostPort, or containerPort when the pod uses the host network)."),
    c("ka.req.pod.ephemeralContainers.name", ContainerSet::Ephemeral, ContainerProp::Name, "When the request object is a pod, the names of the ephemeral containers."),
    c("ka.req.pod.ephemeralContainers.image", ContainerSet::Ephemeral, ContainerProp::Image, "When the request object is a pod, the images of the ephemeral containers."),
    c("ka.req.pod.ephemeralContainers.image.repository", ContainerSet::Ephemeral, ContainerProp::Repository, "When the request object is a pod, the repository part of the images of the ephemeral containers (no tag or digest, e.g. falcosecurity/falco)."),
    c("ka.req.pod.ephemeralContainers.command", ContainerSet::Ephemeral, ContainerProp::Command, "When the request object is a pod, the command elements of the ephemeral containers."),
    c("ka.req.pod.ephemeralContainers.args", ContainerSet::Ephemeral, ContainerProp::Args, "When the request object is a pod, the args elements of the ephemeral containers."),
    c("ka.req.pod.ephemeralContainers.privileged", ContainerSet::Ephemeral, ContainerProp::Privileged, "When the request object is a pod, the privileged flag of the ephemeral containers that set it."),
    c("ka.req.pod.ephemeralContainers.allow_privilege_escalation", ContainerSet::Ephemeral, ContainerProp::AllowPrivilegeEscalation, "When the request object is a pod, the allowPrivilegeEscalation flag of the ephemeral containers that set it."),
    c("ka.req.pod.ephemeralContainers.read_only_fs", ContainerSet::Ephemeral, ContainerProp::ReadOnlyFs, "When the request object is a pod, the readOnlyRootFilesystem flag of the ephemeral containers that set it."),
    c("ka.req.pod.ephemeralContainers.run_as_user", ContainerSet::Ephemeral, ContainerProp::RunAsUser, "When the request object is a pod, the runAsUser uid of the ephemeral containers that set it."),
    c("ka.req.pod.ephemeralContainers.eff_run_as_user", ContainerSet::Ephemeral, ContainerProp::EffRunAsUser, "When the request object is a pod, the uid each of the ephemeral containers starts with: its own runAsUser, else the pod's, else 0."),
    c("ka.req.pod.ephemeralContainers.run_as_group", ContainerSet::Ephemeral, ContainerProp::RunAsGroup, "When the request object is a pod, the runAsGroup gid of the ephemeral containers that set it."),
    c("ka.req.pod.ephemeralContainers.eff_run_as_group", ContainerSet::Ephemeral, ContainerProp::EffRunAsGroup, "When the request object is a pod, the gid each of the ephemeral containers starts with: its own runAsGroup, else the pod's, else 0."),
    c("ka.req.pod.ephemeralContainers.proc_mount", ContainerSet::Ephemeral, ContainerProp::ProcMount, "When the request object is a pod, the procMount type of the ephemeral containers that set it."),
    c("ka.req.pod.ephemeralContainers.add_capabilities", ContainerSet::Ephemeral, ContainerProp::AddCapabilities, "When the request object is a pod, every capability added by the ephemeral containers."),
    c("ka.req.pod.ephemeralContainers.host_port", ContainerSet::Ephemeral, ContainerProp::HostPort, "When the request object is a pod, the host ports of the ephemeral containers (hostPort, or containerPort when the pod uses the host network)."),
    unindexed(l("ka.req.role.rules", Kind::RoleRules, "When the request object refers to a role/cluster role, the rules associated with the role, each as compact JSON.")),
    l("ka.req.role.rules.apiGroups", Kind::RoleRulePart(RulePart::ApiGroups), "When the request object refers to a role/cluster role, the api groups of the role's rules (of rule [i] when indexed)."),
    l("ka.req.role.rules.nonResourceURLs", Kind::RoleRulePart(RulePart::NonResourceUrls), "When the request object refers to a role/cluster role, the non resource urls of the role's rules (of rule [i] when indexed)."),
    l("ka.req.role.rules.verbs", Kind::RoleRulePart(RulePart::Verbs), "When the request object refers to a role/cluster role, the verbs of the role's rules (of rule [i] when indexed)."),
    l("ka.req.role.rules.resources", Kind::RoleRulePart(RulePart::Resources), "When the request object refers to a role/cluster role, the resources of the role's rules (of rule [i] when indexed)."),
    f("ka.req.service.type", Kind::ServiceType, "When the request object refers to a service, the service type."),
    l("ka.req.service.ports", Kind::ServicePorts, "When the request object refers to a service, the service's ports, each as compact JSON."),
    l("ka.req.pod.volumes.hostpath", Kind::VolumeHostPaths, "When the request object refers to a pod, all hostPath paths specified for all volumes."),
    with_arg(f("ka.req.volume.hostpath", Kind::VolumeHostPathMatch, "Deprecated by ka.req.pod.volumes.hostpath. \"true\" if a volume uses the given host path (a prefix when the argument ends with *), else \"false\"."), ArgKind::Key),
    l("ka.req.pod.volumes.flexvolume_driver", Kind::VolumeFlexDrivers, "When the request object refers to a pod, all flexvolume drivers specified for all volumes."),
    l("ka.req.pod.volumes.volume_type", Kind::VolumeTypes, "When the request object refers to a pod, the types of all volumes (the keys of each volume other than name)."),
    f("ka.resp.name", Kind::RespName, "The response object name."),
    f("ka.response.code", Kind::ResponseCode, "The response code."),
    f("ka.response.reason", Kind::ResponseReason, "The response reason (usually present only for failures)."),
    f("ka.useragent", Kind::UserAgent, "The useragent of the client who made the request to the apiserver."),
    l("ka.sourceips", Kind::SourceIps, "The IP addresses of the client who made the request to the apiserver."),
    f("ka.cluster.name", Kind::ClusterName, "The name of the k8s cluster, when the intake was given one."),
    f("jevt.time", Kind::JsonTime, "Event timestamp as HH:MM:SS.nnnnnnnnn (UTC)."),
    f("jevt.time.iso8601", Kind::JsonTimeIso8601, "Event timestamp in ISO 8601 format with nanoseconds (UTC)."),
    FieldInfo { ty: FieldType::U64, ..f("jevt.rawtime", Kind::JsonRawTime, "Event timestamp in nanoseconds from the epoch (stageTimestamp, else requestReceivedTimestamp, else the time the event was decoded).") },
    with_arg(f("jevt.value", Kind::JsonValue, "The value at a JSON pointer into the event: a string's contents, anything else as compact JSON."), ArgKind::Pointer),
    f("jevt.obj", Kind::JsonObj, "The whole event as compact JSON."),
    FieldInfo { ty: FieldType::U64, ..f("json.rawtime", Kind::JsonRawTime, "Alias of jevt.rawtime.") },
    with_arg(f("json.value", Kind::JsonValue, "Alias of jevt.value."), ArgKind::Pointer),
    f("json.obj", Kind::JsonObj, "Alias of jevt.obj."),
];

/// A field name that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FieldError {
    /// No such field.
    #[error("unknown k8s audit field '{0}'")]
    Unknown(String),
    /// The field takes no argument.
    #[error("field '{0}' takes no argument")]
    UnexpectedArg(String),
    /// The field needs an argument.
    #[error("field '{0}' requires an argument")]
    MissingArg(String),
    /// The argument is not what the field takes.
    #[error("field '{field}': invalid argument '{arg}': {why}")]
    BadArg {
        /// The field.
        field: String,
        /// The argument given.
        arg: String,
        /// What it should be.
        why: &'static str,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Arg {
    None,
    Index(usize),
    Key(Box<str>),
    Pointer(Pointer),
}

/// A JSON pointer, resolved once against what the decoder already knows:
/// `/stage` is the decoded stage, `/requestObject/...` starts at the
/// request object's span; anything else walks the whole event.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Pointer {
    /// A top-level string the decoder extracted (same value as the walk).
    Decoded(Kind),
    /// The rest of the pointer below `requestObject`, `responseObject` or
    /// `annotations`.
    Below(Part, Box<[String]>),
    /// Walk from the root.
    Root(Box<[String]>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Part {
    RequestObject,
    ResponseObject,
    Annotations,
}

impl Pointer {
    fn new(tokens: Vec<String>) -> Pointer {
        let t: Vec<&str> = tokens.iter().map(String::as_str).collect();
        let decoded = match t.as_slice() {
            ["stage"] => Some(Kind::Stage),
            ["verb"] => Some(Kind::Verb),
            ["auditID"] => Some(Kind::AuditId),
            ["requestURI"] => Some(Kind::Uri),
            ["userAgent"] => Some(Kind::UserAgent),
            ["user", "username"] => Some(Kind::UserName),
            ["impersonatedUser", "username"] => Some(Kind::ImpUserName),
            ["objectRef", "resource"] => Some(Kind::TargetResource),
            ["objectRef", "namespace"] => Some(Kind::TargetNamespace),
            ["objectRef", "name"] => Some(Kind::TargetName),
            ["objectRef", "subresource"] => Some(Kind::TargetSubresource),
            ["objectRef", "apiGroup"] => Some(Kind::TargetApiGroup),
            ["responseStatus", "code"] => Some(Kind::ResponseCode),
            ["responseStatus", "reason"] => Some(Kind::ResponseReason),
            _ => None,
        };
        if let Some(k) = decoded {
            return Pointer::Decoded(k);
        }
        let part = match t.first() {
            Some(&"requestObject") => Some(Part::RequestObject),
            Some(&"responseObject") => Some(Part::ResponseObject),
            Some(&"annotations") => Some(Part::Annotations),
            _ => None,
        };
        match part {
            Some(p) => Pointer::Below(p, tokens.into_iter().skip(1).collect()),
            None => Pointer::Root(tokens.into_boxed_slice()),
        }
    }
}

/// A resolved field: a catalog entry plus its argument, ready to extract.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AuditField {
    info: usize,
    kind: Kind,
    arg: Arg,
}

impl AuditField {
    /// Resolve `name` with optional `arg` (the text between `[` and `]`).
    ///
    /// ```
    /// use palisade_audit::AuditField;
    /// assert!(AuditField::resolve("ka.req.pod.containers.image", Some("0")).is_ok());
    /// assert!(AuditField::resolve("ka.uri.param", None).is_err());
    /// assert!(AuditField::resolve("ka.nope", None).is_err());
    /// ```
    pub fn resolve(name: &str, arg: Option<&str>) -> Result<AuditField, FieldError> {
        let (idx, info) = FIELDS
            .iter()
            .enumerate()
            .find(|(_, i)| i.name == name)
            .ok_or_else(|| FieldError::Unknown(name.to_owned()))?;
        let bad = |why| FieldError::BadArg {
            field: name.to_owned(),
            arg: arg.unwrap_or_default().to_owned(),
            why,
        };
        let arg = match (info.arg, arg) {
            (ArgKind::None, None) => Arg::None,
            (ArgKind::None, Some(_)) => return Err(FieldError::UnexpectedArg(name.to_owned())),
            (ArgKind::Index, None) => Arg::None,
            (ArgKind::Index, Some(a)) => Arg::Index(
                a.trim()
                    .parse()
                    .map_err(|_| bad("expected an index (0, 1, …)"))?,
            ),
            (ArgKind::Key | ArgKind::Pointer, None) => {
                return Err(FieldError::MissingArg(name.to_owned()))
            }
            (ArgKind::Key, Some("")) => return Err(bad("expected a non-empty key")),
            (ArgKind::Key, Some(a)) => Arg::Key(a.into()),
            (ArgKind::Pointer, Some(a)) => {
                Arg::Pointer(Pointer::new(json::parse_pointer(a).ok_or_else(|| {
                    bad("expected a JSON pointer such as /objectRef/name")
                })?))
            }
        };
        Ok(AuditField {
            info: idx,
            kind: info.kind,
            arg,
        })
    }

    /// The catalog entry.
    pub fn info(&self) -> &'static FieldInfo {
        // `info` is an index that `resolve` took from FIELDS.
        FIELDS.get(self.info).unwrap_or(&JSON_OBJ_FALLBACK)
    }

    /// The field name without argument.
    pub fn name(&self) -> &'static str {
        self.info().name
    }

    /// Whether extracting the field walks JSON text (worth caching per
    /// event), rather than reading a value decoded up front.
    pub fn is_costly(&self) -> bool {
        !matches!(
            (self.kind, &self.arg),
            (
                Kind::AuditId
                    | Kind::Stage
                    | Kind::UserName
                    | Kind::ImpUserName
                    | Kind::Verb
                    | Kind::Uri
                    | Kind::TargetName
                    | Kind::TargetNamespace
                    | Kind::TargetResource
                    | Kind::TargetSubresource
                    | Kind::TargetApiGroup
                    | Kind::ConfigMapName
                    | Kind::ResponseCode
                    | Kind::ResponseReason
                    | Kind::UserAgent
                    | Kind::ClusterName
                    | Kind::JsonRawTime
                    | Kind::BindingSubjectHasName,
                _
            ) | (Kind::JsonValue, Arg::Pointer(Pointer::Decoded(_)))
        )
    }
}

static JSON_OBJ_FALLBACK: FieldInfo = f("jevt.obj", Kind::JsonObj, "");

/// A list item sink: extraction pushes list values into it.
pub(crate) type Push<'p, 's> = &'p mut dyn FnMut(Cow<'s, str>);

/// What [`AuditEvent::extract`] produced: a scalar, or a list whose items
/// went to the sink.
pub(crate) enum Extracted<'s> {
    Str(Cow<'s, str>),
    U64(u64),
    List,
}

fn push_all<'s>(push: Push<'_, 's>, items: impl Iterator<Item = Cow<'s, str>>) {
    for i in items {
        push(i);
    }
}

impl AuditEvent {
    /// The value of `field` for this event, or `None` when the event does
    /// not have it.
    ///
    /// ```
    /// use palisade_audit::{AuditEvent, AuditField, FieldValue};
    /// let e = AuditEvent::from_json(r#"{"kind":"Event","auditID":"1","verb":"create",
    ///   "objectRef":{"resource":"pods"},"requestObject":{"spec":{"containers":[
    ///   {"image":"registry:5000/app:1.2"},{"image":"nginx@sha256:ab"}]}}}"#).unwrap();
    /// let f = AuditField::resolve("ka.req.pod.containers.image.repository", None).unwrap();
    /// assert_eq!(e.field(&f), Some(FieldValue::List(vec!["registry:5000/app".into(), "nginx".into()])));
    /// ```
    pub fn field(&self, field: &AuditField) -> Option<FieldValue<'_>> {
        let mut items = Vec::new();
        match self.extract(field, &mut |i| items.push(i))? {
            Extracted::Str(s) => Some(FieldValue::Str(s)),
            Extracted::U64(n) => Some(FieldValue::U64(n)),
            Extracted::List => Some(FieldValue::List(items)),
        }
    }

    /// Extract `field`; list items go to `push`.
    pub(crate) fn extract<'s>(
        &'s self,
        field: &AuditField,
        push: Push<'_, 's>,
    ) -> Option<Extracted<'s>> {
        let index = match field.arg {
            Arg::Index(i) => Some(i),
            _ => None,
        };
        let s = |v: Option<&'s str>| v.map(|s| Extracted::Str(Cow::Borrowed(s)));
        let raw = |v: Option<&'s str>| v.map(|r| Extracted::Str(json::as_text(r)));
        let flag = |b: bool| {
            Some(Extracted::Str(Cow::Borrowed(if b {
                "true"
            } else {
                "false"
            })))
        };
        match field.kind {
            Kind::AuditId => s(self.audit_id()),
            Kind::Stage => s(self.stage()),
            Kind::AuthDecision => self
                .annotation("authorization.k8s.io/decision")
                .map(Extracted::Str),
            Kind::AuthReason => self
                .annotation("authorization.k8s.io/reason")
                .map(Extracted::Str),
            Kind::UserName => s(self.user_name()),
            Kind::UserGroups => {
                if !self.has_user_groups() {
                    return None;
                }
                push_all(push, self.user_groups().map(Cow::Borrowed));
                Some(Extracted::List)
            }
            Kind::ImpUserName => s(self.impersonated_user_name()),
            Kind::ImpUserGroups => {
                self.impersonated_user_name()?;
                push_all(push, self.impersonated_user_groups().map(Cow::Borrowed));
                Some(Extracted::List)
            }
            Kind::Verb => s(self.verb()),
            Kind::Uri => s(self.request_uri()),
            Kind::UriParam => match &field.arg {
                Arg::Key(k) => query_param(self.request_uri()?, k).map(Extracted::Str),
                _ => None,
            },
            Kind::TargetName | Kind::ConfigMapName => s(self.name()),
            Kind::TargetNamespace => s(self.namespace()),
            Kind::TargetResource => s(self.resource()),
            Kind::TargetSubresource => s(self.subresource()),
            Kind::TargetApiGroup => s(self.api_group()),
            Kind::BindingSubjects => {
                self.req_list(&["subjects"], None, push, |v, push| push(json::compact(v)))
            }
            Kind::BindingSubjectNames => self.req_list(&["subjects"], None, push, |v, push| {
                if let Some(n) = json::get(v, "name") {
                    push(json::as_text(n));
                }
            }),
            Kind::BindingSubjectKinds => self.req_list(&["subjects"], None, push, |v, push| {
                if let Some(n) = json::get(v, "kind") {
                    push(json::as_text(n));
                }
            }),
            Kind::BindingRole => raw(self.req(&["roleRef", "name"])),
            Kind::BindingRoleRefType => raw(self.req(&["roleRef", "kind"])),
            Kind::BindingSubjectHasName => flag(true),
            Kind::ConfigMapObj => raw(self.req(&["data"])),
            Kind::Container(set, prop) => self.container_field(set, prop, index, push),
            Kind::FirstContainerImage | Kind::FirstContainerRepository => {
                let image = json::get(
                    json::elements(self.req(&["spec", "containers"])?).next()?,
                    "image",
                )?;
                let image = json::as_text(image);
                Some(Extracted::Str(if field.kind == Kind::FirstContainerImage {
                    image
                } else {
                    image_repository(image)
                }))
            }
            Kind::AnyContainerPrivileged => {
                let containers = self.req(&["spec", "containers"])?;
                flag(json::elements(containers).any(|c| {
                    json::get_path(c, &["securityContext", "privileged"]).is_some_and(json::is_true)
                }))
            }
            Kind::PodHostIpc => raw(self.req(&["spec", "hostIPC"])),
            Kind::PodHostNetwork => raw(self.req(&["spec", "hostNetwork"])),
            Kind::PodHostPid => raw(self.req(&["spec", "hostPID"])),
            Kind::PodRunAsUser => raw(self.req(&["spec", "securityContext", "runAsUser"])),
            Kind::PodRunAsGroup => raw(self.req(&["spec", "securityContext", "runAsGroup"])),
            Kind::PodFsGroup => raw(self.req(&["spec", "securityContext", "fsGroup"])),
            Kind::PodSupplementalGroups => self.req_list(
                &["spec", "securityContext", "supplementalGroups"],
                None,
                push,
                |v, push| push(json::as_text(v)),
            ),
            Kind::PodServiceAccount => raw(self.req(&["spec", "serviceAccountName"])),
            Kind::PodNodeName => raw(self.req(&["spec", "nodeName"])),
            Kind::RoleRules => {
                self.req_list(&["rules"], None, push, |v, push| push(json::compact(v)))
            }
            Kind::RoleRulePart(part) => self.req_list(&["rules"], index, push, |rule, push| {
                if let Some(arr) = json::get(rule, part.key()) {
                    json::elements(arr).for_each(|v| push(json::as_text(v)));
                }
            }),
            Kind::ServiceType => raw(self.req(&["spec", "type"])),
            Kind::ServicePorts => self.req_list(&["spec", "ports"], index, push, |v, push| {
                push(json::compact(v))
            }),
            Kind::VolumeHostPaths => self.req_list(&["spec", "volumes"], index, push, |v, push| {
                if let Some(p) = json::get_path(v, &["hostPath", "path"]) {
                    push(json::as_text(p));
                }
            }),
            Kind::VolumeHostPathMatch => {
                let Arg::Key(want) = &field.arg else {
                    return None;
                };
                let volumes = self.req(&["spec", "volumes"])?;
                let prefix = want.strip_suffix('*');
                flag(
                    json::elements(volumes)
                        .filter_map(|v| json::get_path(v, &["hostPath", "path"]).map(json::as_text))
                        .any(|p| match prefix {
                            Some(pre) => p.starts_with(pre),
                            None => *p == **want,
                        }),
                )
            }
            Kind::VolumeFlexDrivers => {
                self.req_list(&["spec", "volumes"], index, push, |v, push| {
                    if let Some(d) = json::get_path(v, &["flexVolume", "driver"]) {
                        push(json::as_text(d));
                    }
                })
            }
            Kind::VolumeTypes => self.req_list(&["spec", "volumes"], index, push, |v, push| {
                for (k, _) in json::entries(v) {
                    let k = json::as_text(k);
                    if k != "name" {
                        push(k);
                    }
                }
            }),
            Kind::RespName => raw(self
                .response_object()
                .and_then(|o| json::get_path(o, &["metadata", "name"]))),
            Kind::ResponseCode => s(self.response_code_text()),
            Kind::ResponseReason => s(self.response_reason()),
            Kind::UserAgent => s(self.user_agent()),
            Kind::SourceIps => {
                if self.source_ip_count() == 0 {
                    return None;
                }
                match index {
                    Some(i) => push(Cow::Borrowed(self.source_ips().nth(i)?)),
                    None => push_all(push, self.source_ips().map(Cow::Borrowed)),
                }
                Some(Extracted::List)
            }
            Kind::ClusterName => s(self.cluster_name()),
            Kind::JsonTime => Some(Extracted::Str(Cow::Owned(format_time_of_day(
                self.time_ns(),
            )))),
            Kind::JsonTimeIso8601 => Some(Extracted::Str(Cow::Owned(format_rfc3339_nanos(
                self.time_ns(),
            )))),
            Kind::JsonRawTime => Some(Extracted::U64(self.time_ns())),
            Kind::JsonValue => match &field.arg {
                Arg::Pointer(Pointer::Root(tokens)) => raw(self.pointer_tokens(tokens)),
                Arg::Pointer(Pointer::Below(part, tokens)) => {
                    let base = match part {
                        Part::RequestObject => self.request_object(),
                        Part::ResponseObject => self.response_object(),
                        Part::Annotations => self.annotations_json(),
                    };
                    raw(json::pointer(base?, tokens))
                }
                Arg::Pointer(Pointer::Decoded(kind)) => {
                    let alias = AuditField {
                        info: field.info,
                        kind: *kind,
                        arg: Arg::None,
                    };
                    self.extract(&alias, push)
                }
                _ => None,
            },
            Kind::JsonObj => Some(Extracted::Str(json::compact(self.json()))),
        }
    }

    /// A value inside `requestObject`.
    fn req(&self, path: &[&str]) -> Option<&str> {
        match path.split_first() {
            Some((&"spec", rest)) => json::get_path(self.request_spec()?, rest),
            _ => json::get_path(self.request_object()?, path),
        }
    }

    /// Walk the array at `path` inside `requestObject` (only element
    /// `index` when given), letting `each` push values.
    fn req_list<'s>(
        &'s self,
        path: &[&str],
        index: Option<usize>,
        push: Push<'_, 's>,
        mut each: impl FnMut(&'s str, Push<'_, 's>),
    ) -> Option<Extracted<'s>> {
        let arr = self.req(path)?;
        if json::kind(arr) != Some(json::Kind::Array) {
            return None;
        }
        match index {
            Some(i) => each(json::elements(arr).nth(i)?, push),
            None => json::elements(arr).for_each(|v| each(v, &mut *push)),
        }
        Some(Extracted::List)
    }

    fn container_field<'s>(
        &'s self,
        set: ContainerSet,
        prop: ContainerProp,
        index: Option<usize>,
        push: Push<'_, 's>,
    ) -> Option<Extracted<'s>> {
        use ContainerProp as P;
        let pod_default = |key: &str| -> Cow<'s, str> {
            self.req(&["spec", "securityContext", key])
                .map_or(Cow::Borrowed("0"), json::as_text)
        };
        let host_network = || {
            self.req(&["spec", "hostNetwork"])
                .is_some_and(json::is_true)
        };
        self.req_list(&["spec", set.key()], index, push, |c, push| {
            let sc = |key: &str| json::get_path(c, &["securityContext", key]);
            let mut one = |v: Option<&'s str>| {
                if let Some(v) = v {
                    push(json::as_text(v));
                }
            };
            match prop {
                P::Name => one(json::get(c, "name")),
                P::Image => one(json::get(c, "image")),
                P::Repository => {
                    if let Some(img) = json::get(c, "image").and_then(json::as_str) {
                        push(image_repository(img));
                    }
                }
                P::Command | P::Args => {
                    let key = if prop == P::Command {
                        "command"
                    } else {
                        "args"
                    };
                    if let Some(arr) = json::get(c, key) {
                        json::elements(arr).for_each(|v| push(json::as_text(v)));
                    }
                }
                P::Privileged => one(sc("privileged")),
                P::AllowPrivilegeEscalation => one(sc("allowPrivilegeEscalation")),
                P::ReadOnlyFs => one(sc("readOnlyRootFilesystem")),
                P::RunAsUser => one(sc("runAsUser")),
                P::RunAsGroup => one(sc("runAsGroup")),
                P::EffRunAsUser => {
                    push(sc("runAsUser").map_or_else(|| pod_default("runAsUser"), json::as_text));
                }
                P::EffRunAsGroup => {
                    push(sc("runAsGroup").map_or_else(|| pod_default("runAsGroup"), json::as_text));
                }
                P::ProcMount => one(sc("procMount")),
                P::AddCapabilities => {
                    if let Some(arr) =
                        json::get_path(c, &["securityContext", "capabilities", "add"])
                    {
                        json::elements(arr).for_each(|v| push(json::as_text(v)));
                    }
                }
                P::HostPort => {
                    if let Some(ports) = json::get(c, "ports") {
                        for p in json::elements(ports) {
                            if let Some(hp) = json::get(p, "hostPort") {
                                push(json::as_text(hp));
                            } else if host_network() {
                                if let Some(cp) = json::get(p, "containerPort") {
                                    push(json::as_text(cp));
                                }
                            }
                        }
                    }
                }
            }
        })
    }
}

/// The repository part of an image reference: without `@digest` and
/// without a `:tag` after the last `/` (a registry port stays).
pub fn image_repository(image: Cow<'_, str>) -> Cow<'_, str> {
    let cut = |s: &str| -> usize {
        let no_digest = s.find('@').unwrap_or(s.len());
        let head = s.get(..no_digest).unwrap_or(s);
        let last_slash = head.rfind('/').map_or(0, |i| i + 1);
        match head.get(last_slash..).and_then(|t| t.find(':')) {
            Some(colon) => last_slash + colon,
            None => no_digest,
        }
    };
    match image {
        Cow::Borrowed(s) => Cow::Borrowed(s.get(..cut(s)).unwrap_or(s)),
        Cow::Owned(s) => {
            let n = cut(&s);
            Cow::Owned(s.get(..n).unwrap_or(&s).to_owned())
        }
    }
}

/// The first value of query parameter `key` in `uri`, percent-decoded (`+`
/// is a space, as Go's `url.ParseQuery` has it).
fn query_param<'u>(uri: &'u str, key: &str) -> Option<Cow<'u, str>> {
    let query = uri.split_once('?')?.1;
    let query = query.split_once('#').map_or(query, |(q, _)| q);
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k) == key).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> Cow<'_, str> {
    if !s.contains(['%', '+']) {
        return Cow::Borrowed(s);
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            _ => out.push(b),
        }
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_is_consistent() {
        let mut names: Vec<_> = FIELDS.iter().map(|f| f.name).collect();
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        assert_eq!(n, names.len(), "duplicate field names");
        for info in FIELDS {
            let arg = match info.arg {
                ArgKind::Key => Some("k"),
                ArgKind::Pointer => Some("/a"),
                _ => None,
            };
            let field = AuditField::resolve(info.name, arg).unwrap();
            assert_eq!(field.name(), info.name);
        }
    }

    #[test]
    fn resolve_errors() {
        assert!(matches!(
            AuditField::resolve("ka.verb", Some("0")),
            Err(FieldError::UnexpectedArg(_))
        ));
        assert!(matches!(
            AuditField::resolve("jevt.value", None),
            Err(FieldError::MissingArg(_))
        ));
        assert!(matches!(
            AuditField::resolve("jevt.value", Some("nope")),
            Err(FieldError::BadArg { .. })
        ));
        assert!(matches!(
            AuditField::resolve("ka.sourceips", Some("x")),
            Err(FieldError::BadArg { .. })
        ));
        assert!(AuditField::resolve("ka.uri.param", Some("")).is_err());
    }

    #[test]
    fn repositories() {
        for (img, repo) in [
            ("nginx", "nginx"),
            ("nginx:1.25", "nginx"),
            ("docker.io/library/nginx:1.25", "docker.io/library/nginx"),
            ("registry:5000/app", "registry:5000/app"),
            ("registry:5000/app:1@sha256:00", "registry:5000/app"),
            ("app@sha256:00", "app"),
        ] {
            assert_eq!(image_repository(Cow::Borrowed(img)), repo, "{img}");
        }
    }

    #[test]
    fn query_params() {
        let uri =
            "/api/v1/namespaces/d/pods/p/exec?command=sh&command=-c&container=a%2Fb&x=a+b&flag";
        assert_eq!(query_param(uri, "command").as_deref(), Some("sh"));
        assert_eq!(query_param(uri, "container").as_deref(), Some("a/b"));
        assert_eq!(query_param(uri, "x").as_deref(), Some("a b"));
        assert_eq!(query_param(uri, "flag").as_deref(), Some(""));
        assert_eq!(query_param(uri, "none"), None);
        assert_eq!(query_param("/healthz", "a"), None);
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }
}
