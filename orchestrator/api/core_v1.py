"""The core/v1 kinds: Pod, Binding, Service, Endpoints, Node, Namespace, ConfigMap, Secret, ServiceAccount, Event.

Mirrors k8s.io/api/core/v1/types.go (Kubernetes 1.32): same field names, same
nesting, and the strategic-merge-patch tags of the Go struct fields (`merge_list`,
`retain_keys`). Fields Kubernetes requires in every object are required here;
everything else is optional and left out of `dump()` when unset.

Volume sources for cloud and network storage this orchestrator cannot mount
(awsElasticBlockStore, rbd, iscsi, ...) are accepted as opaque objects so that a
manifest written for Kubernetes still loads; the kubelet refuses to run them.

Used by: the apiserver (validation, OpenAPI), scheduler, kubelet, proxy, controllers.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, StrictBool, StrictInt, StrictStr

from orchestrator.api.base import K8sModel, merge_list
from orchestrator.api.meta import Condition, IntOrString, LabelSelector, MicroTime, ObjectMeta, Quantity, Time

OPENAPI_PACKAGE = "io.k8s.api.core.v1"

# A volume source this orchestrator does not interpret: any JSON object is accepted.
OpaqueSource = dict[str, Any]


# --- references -------------------------------------------------------------------------------


class ObjectReference(K8sModel):
    """Points at one object (or a field of it) anywhere in the cluster."""

    api_version: StrictStr | None = None
    kind: StrictStr | None = None
    namespace: StrictStr | None = None
    name: StrictStr | None = None
    uid: StrictStr | None = None
    resource_version: StrictStr | None = None
    field_path: StrictStr | None = None


class LocalObjectReference(K8sModel):
    """Names an object in the same namespace (an image pull secret, a ConfigMap)."""

    name: StrictStr | None = None


# --- environment ------------------------------------------------------------------------------


class ObjectFieldSelector(K8sModel):
    """Selects a field of the pod, e.g. `metadata.name` or `status.podIP`."""

    field_path: StrictStr
    api_version: StrictStr | None = None


class ResourceFieldSelector(K8sModel):
    """Selects a container resource (`limits.cpu`, `requests.memory`), scaled by `divisor`."""

    resource: StrictStr
    container_name: StrictStr | None = None
    divisor: Quantity | None = None


class ConfigMapKeySelector(K8sModel):
    """Selects one key of a ConfigMap."""

    key: StrictStr
    name: StrictStr | None = None
    optional: StrictBool | None = None


class SecretKeySelector(K8sModel):
    """Selects one key of a Secret."""

    key: StrictStr
    name: StrictStr | None = None
    optional: StrictBool | None = None


class EnvVarSource(K8sModel):
    """Where an environment variable takes its value from."""

    field_ref: ObjectFieldSelector | None = None
    resource_field_ref: ResourceFieldSelector | None = None
    config_map_key_ref: ConfigMapKeySelector | None = None
    secret_key_ref: SecretKeySelector | None = None


class EnvVar(K8sModel):
    """One environment variable of a container: a literal `value` or a `valueFrom` source."""

    name: StrictStr
    value: StrictStr | None = None
    value_from: EnvVarSource | None = None


class ConfigMapEnvSource(K8sModel):
    """Every key of a ConfigMap as environment variables."""

    name: StrictStr | None = None
    optional: StrictBool | None = None


class SecretEnvSource(K8sModel):
    """Every key of a Secret as environment variables."""

    name: StrictStr | None = None
    optional: StrictBool | None = None


class EnvFromSource(K8sModel):
    """A ConfigMap or Secret whose keys all become environment variables, optionally prefixed."""

    prefix: StrictStr | None = None
    config_map_ref: ConfigMapEnvSource | None = None
    secret_ref: SecretEnvSource | None = None


# --- resources, ports, mounts -----------------------------------------------------------------


class ResourceClaim(K8sModel):
    """A reference from a container to one of the pod's resource claims."""

    name: StrictStr
    request: StrictStr | None = None


class ResourceRequirements(K8sModel):
    """Compute resources a container asks for (`requests`) and may not exceed (`limits`)."""

    limits: dict[str, Quantity] | None = None
    requests: dict[str, Quantity] | None = None
    claims: list[ResourceClaim] | None = None


class ContainerPort(K8sModel):
    """A port a container listens on; `hostPort` also exposes it on the node."""

    container_port: StrictInt
    name: StrictStr | None = None
    host_port: StrictInt | None = None
    protocol: StrictStr | None = None
    host_ip: StrictStr | None = None


class VolumeMount(K8sModel):
    """Mounts a pod volume (`name`) into a container at `mountPath`."""

    name: StrictStr
    mount_path: StrictStr
    read_only: StrictBool | None = None
    recursive_read_only: StrictStr | None = None
    sub_path: StrictStr | None = None
    sub_path_expr: StrictStr | None = None
    mount_propagation: StrictStr | None = None


class VolumeDevice(K8sModel):
    """Maps a raw block volume into a container at `devicePath`."""

    name: StrictStr
    device_path: StrictStr


class ContainerResizePolicy(K8sModel):
    """Whether resizing a resource of a running container restarts it."""

    resource_name: StrictStr
    restart_policy: StrictStr


# --- probes and lifecycle hooks ---------------------------------------------------------------


class ExecAction(K8sModel):
    """Runs a command in the container; exit status 0 means success."""

    command: list[StrictStr] | None = None


class HTTPHeader(K8sModel):
    """A header sent by an HTTP probe."""

    name: StrictStr
    value: StrictStr


class HTTPGetAction(K8sModel):
    """An HTTP GET against the pod; a status from 200 to 399 means success."""

    port: IntOrString
    path: StrictStr | None = None
    host: StrictStr | None = None
    scheme: StrictStr | None = None
    http_headers: list[HTTPHeader] | None = None


class TCPSocketAction(K8sModel):
    """Opens a TCP connection to the pod; an accepted connection means success."""

    port: IntOrString
    host: StrictStr | None = None


class GRPCAction(K8sModel):
    """Calls the gRPC health-checking protocol on a port of the pod."""

    port: StrictInt
    service: StrictStr | None = None


class SleepAction(K8sModel):
    """Sleeps for a number of seconds (a lifecycle hook, typically a preStop delay)."""

    seconds: StrictInt


class Probe(K8sModel):
    """A periodic health check of a container (liveness, readiness or startup)."""

    exec_: ExecAction | None = None
    http_get: HTTPGetAction | None = None
    tcp_socket: TCPSocketAction | None = None
    grpc: GRPCAction | None = None
    initial_delay_seconds: StrictInt | None = None
    timeout_seconds: StrictInt | None = None
    period_seconds: StrictInt | None = None
    success_threshold: StrictInt | None = None
    failure_threshold: StrictInt | None = None
    termination_grace_period_seconds: StrictInt | None = None


class LifecycleHandler(K8sModel):
    """What a lifecycle hook does: one of exec, httpGet, tcpSocket, sleep."""

    exec_: ExecAction | None = None
    http_get: HTTPGetAction | None = None
    tcp_socket: TCPSocketAction | None = None
    sleep: SleepAction | None = None


class Lifecycle(K8sModel):
    """Hooks run right after a container starts and right before it is stopped."""

    post_start: LifecycleHandler | None = None
    pre_stop: LifecycleHandler | None = None


# --- security ---------------------------------------------------------------------------------


class Capabilities(K8sModel):
    """Linux capabilities added to or dropped from a container."""

    add: list[StrictStr] | None = None
    drop: list[StrictStr] | None = None


class SELinuxOptions(K8sModel):
    """SELinux labels applied to a container."""

    user: StrictStr | None = None
    role: StrictStr | None = None
    type: StrictStr | None = None
    level: StrictStr | None = None


class SeccompProfile(K8sModel):
    """The seccomp profile of a pod or container."""

    type: StrictStr
    localhost_profile: StrictStr | None = None


class AppArmorProfile(K8sModel):
    """The AppArmor profile of a pod or container."""

    type: StrictStr
    localhost_profile: StrictStr | None = None


class WindowsSecurityContextOptions(K8sModel):
    """Windows-specific security settings."""

    gmsa_credential_spec_name: StrictStr | None = None
    gmsa_credential_spec: StrictStr | None = None
    run_as_user_name: StrictStr | None = None
    host_process: StrictBool | None = None


class Sysctl(K8sModel):
    """A namespaced kernel parameter set for the pod."""

    name: StrictStr
    value: StrictStr


class SecurityContext(K8sModel):
    """Security settings of one container; they override the pod's."""

    capabilities: Capabilities | None = None
    privileged: StrictBool | None = None
    se_linux_options: SELinuxOptions | None = None
    windows_options: WindowsSecurityContextOptions | None = None
    run_as_user: StrictInt | None = None
    run_as_group: StrictInt | None = None
    run_as_non_root: StrictBool | None = None
    read_only_root_filesystem: StrictBool | None = None
    allow_privilege_escalation: StrictBool | None = None
    proc_mount: StrictStr | None = None
    seccomp_profile: SeccompProfile | None = None
    app_armor_profile: AppArmorProfile | None = None


class PodSecurityContext(K8sModel):
    """Security settings shared by every container of a pod."""

    se_linux_options: SELinuxOptions | None = None
    windows_options: WindowsSecurityContextOptions | None = None
    run_as_user: StrictInt | None = None
    run_as_group: StrictInt | None = None
    run_as_non_root: StrictBool | None = None
    supplemental_groups: list[StrictInt] | None = None
    supplemental_groups_policy: StrictStr | None = None
    fs_group: StrictInt | None = None
    sysctls: list[Sysctl] | None = None
    fs_group_change_policy: StrictStr | None = None
    seccomp_profile: SeccompProfile | None = None
    app_armor_profile: AppArmorProfile | None = None
    se_linux_change_policy: StrictStr | None = None


# --- containers -------------------------------------------------------------------------------


class Container(K8sModel):
    """One container of a pod: its image, command, environment, ports, mounts and probes."""

    name: StrictStr
    image: StrictStr | None = None
    command: list[StrictStr] | None = None
    args: list[StrictStr] | None = None
    working_dir: StrictStr | None = None
    ports: list[ContainerPort] | None = merge_list("containerPort")
    env_from: list[EnvFromSource] | None = None
    env: list[EnvVar] | None = merge_list("name")
    resources: ResourceRequirements | None = None
    resize_policy: list[ContainerResizePolicy] | None = None
    restart_policy: StrictStr | None = None
    volume_mounts: list[VolumeMount] | None = merge_list("mountPath")
    volume_devices: list[VolumeDevice] | None = merge_list("devicePath")
    liveness_probe: Probe | None = None
    readiness_probe: Probe | None = None
    startup_probe: Probe | None = None
    lifecycle: Lifecycle | None = None
    termination_message_path: StrictStr | None = None
    termination_message_policy: StrictStr | None = None
    image_pull_policy: StrictStr | None = None
    security_context: SecurityContext | None = None
    stdin: StrictBool | None = None
    stdin_once: StrictBool | None = None
    tty: StrictBool | None = None


class EphemeralContainer(Container):
    """A debugging container added to a running pod (`kubectl debug`); it may target another container."""

    target_container_name: StrictStr | None = None


# --- volumes ----------------------------------------------------------------------------------


class KeyToPath(K8sModel):
    """Projects one key of a ConfigMap or Secret to a file path in the volume."""

    key: StrictStr
    path: StrictStr
    mode: StrictInt | None = None


class EmptyDirVolumeSource(K8sModel):
    """A scratch directory that lives as long as the pod."""

    medium: StrictStr | None = None
    size_limit: Quantity | None = None


class HostPathVolumeSource(K8sModel):
    """A file or directory of the node mounted into the pod."""

    path: StrictStr
    type: StrictStr | None = None


class ConfigMapVolumeSource(K8sModel):
    """The keys of a ConfigMap as files."""

    name: StrictStr | None = None
    items: list[KeyToPath] | None = None
    default_mode: StrictInt | None = None
    optional: StrictBool | None = None


class SecretVolumeSource(K8sModel):
    """The keys of a Secret as files."""

    secret_name: StrictStr | None = None
    items: list[KeyToPath] | None = None
    default_mode: StrictInt | None = None
    optional: StrictBool | None = None


class DownwardAPIVolumeFile(K8sModel):
    """One file holding a field of the pod or a resource of a container."""

    path: StrictStr
    field_ref: ObjectFieldSelector | None = None
    resource_field_ref: ResourceFieldSelector | None = None
    mode: StrictInt | None = None


class DownwardAPIVolumeSource(K8sModel):
    """Fields of the pod exposed as files."""

    items: list[DownwardAPIVolumeFile] | None = None
    default_mode: StrictInt | None = None


class ConfigMapProjection(K8sModel):
    """The keys of a ConfigMap projected into a projected volume."""

    name: StrictStr | None = None
    items: list[KeyToPath] | None = None
    optional: StrictBool | None = None


class SecretProjection(K8sModel):
    """The keys of a Secret projected into a projected volume."""

    name: StrictStr | None = None
    items: list[KeyToPath] | None = None
    optional: StrictBool | None = None


class DownwardAPIProjection(K8sModel):
    """Fields of the pod projected into a projected volume."""

    items: list[DownwardAPIVolumeFile] | None = None


class ServiceAccountTokenProjection(K8sModel):
    """A service account token projected into a projected volume."""

    path: StrictStr
    audience: StrictStr | None = None
    expiration_seconds: StrictInt | None = None


class VolumeProjection(K8sModel):
    """One source of a projected volume."""

    secret: SecretProjection | None = None
    downward_api: DownwardAPIProjection | None = Field(None, alias="downwardAPI")
    config_map: ConfigMapProjection | None = None
    service_account_token: ServiceAccountTokenProjection | None = None
    cluster_trust_bundle: OpaqueSource | None = None


class ProjectedVolumeSource(K8sModel):
    """Several ConfigMaps, Secrets, downward-API fields and tokens in one directory."""

    sources: list[VolumeProjection] | None = None
    default_mode: StrictInt | None = None


class PersistentVolumeClaimVolumeSource(K8sModel):
    """A PersistentVolumeClaim of the pod's namespace."""

    claim_name: StrictStr
    read_only: StrictBool | None = None


class NFSVolumeSource(K8sModel):
    """An NFS export."""

    server: StrictStr
    path: StrictStr
    read_only: StrictBool | None = None


class CSIVolumeSource(K8sModel):
    """An ephemeral volume provided by a CSI driver."""

    driver: StrictStr
    read_only: StrictBool | None = None
    fs_type: StrictStr | None = None
    volume_attributes: dict[str, StrictStr] | None = None
    node_publish_secret_ref: LocalObjectReference | None = None


class ImageVolumeSource(K8sModel):
    """An OCI image (or artifact) mounted read-only."""

    reference: StrictStr | None = None
    pull_policy: StrictStr | None = None


class Volume(K8sModel):
    """A named volume of a pod; exactly one source field is set."""

    name: StrictStr
    empty_dir: EmptyDirVolumeSource | None = None
    host_path: HostPathVolumeSource | None = None
    config_map: ConfigMapVolumeSource | None = None
    secret: SecretVolumeSource | None = None
    projected: ProjectedVolumeSource | None = None
    downward_api: DownwardAPIVolumeSource | None = Field(None, alias="downwardAPI")
    persistent_volume_claim: PersistentVolumeClaimVolumeSource | None = None
    nfs: NFSVolumeSource | None = None
    csi: CSIVolumeSource | None = None
    image: ImageVolumeSource | None = None
    ephemeral: OpaqueSource | None = None
    git_repo: OpaqueSource | None = None
    aws_elastic_block_store: OpaqueSource | None = None
    gce_persistent_disk: OpaqueSource | None = None
    azure_disk: OpaqueSource | None = None
    azure_file: OpaqueSource | None = None
    cephfs: OpaqueSource | None = None
    cinder: OpaqueSource | None = None
    fc: OpaqueSource | None = None
    flex_volume: OpaqueSource | None = None
    flocker: OpaqueSource | None = None
    glusterfs: OpaqueSource | None = None
    iscsi: OpaqueSource | None = None
    photon_persistent_disk: OpaqueSource | None = None
    portworx_volume: OpaqueSource | None = None
    quobyte: OpaqueSource | None = None
    rbd: OpaqueSource | None = None
    scale_io: OpaqueSource | None = Field(None, alias="scaleIO")
    storageos: OpaqueSource | None = None
    vsphere_volume: OpaqueSource | None = None


# --- scheduling -------------------------------------------------------------------------------


class NodeSelectorRequirement(K8sModel):
    """`key` `In`/`NotIn`/`Exists`/`DoesNotExist`/`Gt`/`Lt` `values`, against node labels or fields."""

    key: StrictStr
    operator: StrictStr
    values: list[StrictStr] | None = None


class NodeSelectorTerm(K8sModel):
    """Requirements that are ANDed; the terms of a NodeSelector are ORed."""

    match_expressions: list[NodeSelectorRequirement] | None = None
    match_fields: list[NodeSelectorRequirement] | None = None


class NodeSelector(K8sModel):
    """A node matches if it matches any of the terms."""

    node_selector_terms: list[NodeSelectorTerm]


class PreferredSchedulingTerm(K8sModel):
    """A node preference worth `weight` (1-100) when the node matches."""

    weight: StrictInt
    preference: NodeSelectorTerm


class NodeAffinity(K8sModel):
    """Rules on the labels of the node a pod may run on."""

    required_during_scheduling_ignored_during_execution: NodeSelector | None = None
    preferred_during_scheduling_ignored_during_execution: list[PreferredSchedulingTerm] | None = None


class PodAffinityTerm(K8sModel):
    """Pods matching the selector, in the namespaces, running in the same `topologyKey` domain."""

    label_selector: LabelSelector | None = None
    namespaces: list[StrictStr] | None = None
    topology_key: StrictStr
    namespace_selector: LabelSelector | None = None
    match_label_keys: list[StrictStr] | None = None
    mismatch_label_keys: list[StrictStr] | None = None


class WeightedPodAffinityTerm(K8sModel):
    """A pod (anti-)affinity preference worth `weight` (1-100)."""

    weight: StrictInt
    pod_affinity_term: PodAffinityTerm


class PodAffinity(K8sModel):
    """Run near pods matching these terms."""

    required_during_scheduling_ignored_during_execution: list[PodAffinityTerm] | None = None
    preferred_during_scheduling_ignored_during_execution: list[WeightedPodAffinityTerm] | None = None


class PodAntiAffinity(K8sModel):
    """Run away from pods matching these terms."""

    required_during_scheduling_ignored_during_execution: list[PodAffinityTerm] | None = None
    preferred_during_scheduling_ignored_during_execution: list[WeightedPodAffinityTerm] | None = None


class Affinity(K8sModel):
    """The node, pod and pod anti-affinity rules of a pod."""

    node_affinity: NodeAffinity | None = None
    pod_affinity: PodAffinity | None = None
    pod_anti_affinity: PodAntiAffinity | None = None


class Toleration(K8sModel):
    """Lets a pod be scheduled onto (or stay on) nodes with a matching taint."""

    key: StrictStr | None = None
    operator: StrictStr | None = None
    value: StrictStr | None = None
    effect: StrictStr | None = None
    toleration_seconds: StrictInt | None = None


class Taint(K8sModel):
    """Repels pods that do not tolerate it from a node."""

    key: StrictStr
    value: StrictStr | None = None
    effect: StrictStr
    time_added: Time | None = None


class TopologySpreadConstraint(K8sModel):
    """How evenly matching pods must spread across the domains of `topologyKey`."""

    max_skew: StrictInt
    topology_key: StrictStr
    when_unsatisfiable: StrictStr
    label_selector: LabelSelector | None = None
    min_domains: StrictInt | None = None
    node_affinity_policy: StrictStr | None = None
    node_taints_policy: StrictStr | None = None
    match_label_keys: list[StrictStr] | None = None


class HostAlias(K8sModel):
    """An entry of the pod's /etc/hosts."""

    ip: StrictStr
    hostnames: list[StrictStr] | None = None


class PodDNSConfigOption(K8sModel):
    """A resolver option (`ndots:2`)."""

    name: StrictStr | None = None
    value: StrictStr | None = None


class PodDNSConfig(K8sModel):
    """DNS settings merged into the pod's resolv.conf."""

    nameservers: list[StrictStr] | None = None
    searches: list[StrictStr] | None = None
    options: list[PodDNSConfigOption] | None = None


class PodReadinessGate(K8sModel):
    """An extra pod condition that must be True for the pod to be ready."""

    condition_type: StrictStr


class PodSchedulingGate(K8sModel):
    """While any gate is present the pod is not scheduled."""

    name: StrictStr


class PodOS(K8sModel):
    """The operating system the pod's containers need (`linux`, `windows`)."""

    name: StrictStr


class PodResourceClaim(K8sModel):
    """A dynamic resource claim the pod's containers may reference."""

    name: StrictStr
    resource_claim_name: StrictStr | None = None
    resource_claim_template_name: StrictStr | None = None


# --- pods -------------------------------------------------------------------------------------


class PodSpec(K8sModel):
    """The desired state of a pod: its containers, volumes, scheduling constraints and settings."""

    volumes: list[Volume] | None = merge_list("name", retain_keys=True)
    init_containers: list[Container] | None = merge_list("name")
    containers: list[Container] | None = merge_list("name")
    ephemeral_containers: list[EphemeralContainer] | None = merge_list("name")
    restart_policy: StrictStr | None = None
    termination_grace_period_seconds: StrictInt | None = None
    active_deadline_seconds: StrictInt | None = None
    dns_policy: StrictStr | None = None
    node_selector: dict[str, StrictStr] | None = None
    service_account_name: StrictStr | None = None
    service_account: StrictStr | None = None
    automount_service_account_token: StrictBool | None = None
    node_name: StrictStr | None = None
    host_network: StrictBool | None = None
    host_pid: StrictBool | None = None
    host_ipc: StrictBool | None = None
    share_process_namespace: StrictBool | None = None
    security_context: PodSecurityContext | None = None
    image_pull_secrets: list[LocalObjectReference] | None = merge_list("name")
    hostname: StrictStr | None = None
    subdomain: StrictStr | None = None
    affinity: Affinity | None = None
    scheduler_name: StrictStr | None = None
    tolerations: list[Toleration] | None = None
    host_aliases: list[HostAlias] | None = merge_list("ip")
    priority_class_name: StrictStr | None = None
    priority: StrictInt | None = None
    dns_config: PodDNSConfig | None = None
    readiness_gates: list[PodReadinessGate] | None = None
    runtime_class_name: StrictStr | None = None
    enable_service_links: StrictBool | None = None
    preemption_policy: StrictStr | None = None
    overhead: dict[str, Quantity] | None = None
    topology_spread_constraints: list[TopologySpreadConstraint] | None = merge_list("topologyKey")
    set_hostname_as_fqdn: StrictBool | None = None
    os: PodOS | None = None
    host_users: StrictBool | None = None
    scheduling_gates: list[PodSchedulingGate] | None = merge_list("name")
    resource_claims: list[PodResourceClaim] | None = merge_list("name", retain_keys=True)
    resources: ResourceRequirements | None = None


class ContainerStateWaiting(K8sModel):
    """The container is not running yet (`ContainerCreating`, `CrashLoopBackOff`, `ErrImagePull`)."""

    reason: StrictStr | None = None
    message: StrictStr | None = None


class ContainerStateRunning(K8sModel):
    """The container is running since `startedAt`."""

    started_at: Time | None = None


class ContainerStateTerminated(K8sModel):
    """The container ran and exited."""

    exit_code: StrictInt | None = None
    signal: StrictInt | None = None
    reason: StrictStr | None = None
    message: StrictStr | None = None
    started_at: Time | None = None
    finished_at: Time | None = None
    container_id: StrictStr | None = None


class ContainerState(K8sModel):
    """Exactly one of waiting, running, terminated."""

    waiting: ContainerStateWaiting | None = None
    running: ContainerStateRunning | None = None
    terminated: ContainerStateTerminated | None = None


class ContainerStatus(K8sModel):
    """What the kubelet observed of one container."""

    name: StrictStr
    state: ContainerState | None = None
    last_state: ContainerState | None = None
    ready: StrictBool | None = None
    restart_count: StrictInt | None = None
    image: StrictStr | None = None
    image_id: StrictStr | None = None
    container_id: StrictStr | None = None
    started: StrictBool | None = None
    allocated_resources: dict[str, Quantity] | None = None
    resources: ResourceRequirements | None = None
    volume_mounts: list[dict[str, Any]] | None = None
    user: dict[str, Any] | None = None
    allocated_resources_status: list[dict[str, Any]] | None = None


class PodCondition(K8sModel):
    """A condition of a pod: PodScheduled, Initialized, ContainersReady, Ready."""

    type: StrictStr
    status: StrictStr
    last_probe_time: Time | None = None
    last_transition_time: Time | None = None
    reason: StrictStr | None = None
    message: StrictStr | None = None


class PodIP(K8sModel):
    """One address of a pod."""

    ip: StrictStr


class HostIP(K8sModel):
    """One address of the node a pod runs on."""

    ip: StrictStr


class PodStatus(K8sModel):
    """The observed state of a pod, written by the scheduler and the kubelet."""

    phase: StrictStr | None = None
    conditions: list[PodCondition] | None = merge_list("type")
    message: StrictStr | None = None
    reason: StrictStr | None = None
    nominated_node_name: StrictStr | None = None
    host_ip: StrictStr | None = None
    host_ips: list[HostIP] | None = merge_list("ip")
    pod_ip: StrictStr | None = None
    pod_ips: list[PodIP] | None = merge_list("ip")
    start_time: Time | None = None
    init_container_statuses: list[ContainerStatus] | None = None
    container_statuses: list[ContainerStatus] | None = None
    ephemeral_container_statuses: list[ContainerStatus] | None = None
    qos_class: StrictStr | None = None
    resize: StrictStr | None = None
    resource_claim_statuses: list[dict[str, Any]] | None = merge_list("name", retain_keys=True)


class Pod(K8sModel):
    """A group of containers that share a network namespace and volumes, run on one node."""

    api_version: StrictStr | None = None
    kind: StrictStr | None = None
    metadata: ObjectMeta | None = None
    spec: PodSpec | None = None
    status: PodStatus | None = None


class PodTemplateSpec(K8sModel):
    """The pod a workload controller creates: its metadata (labels) and spec."""

    metadata: ObjectMeta | None = None
    spec: PodSpec | None = None


class Binding(K8sModel):
    """Binds a pod to a node: the scheduler POSTs it to pods/{name}/binding."""

    api_version: StrictStr | None = None
    kind: StrictStr | None = None
    metadata: ObjectMeta | None = None
    target: ObjectReference


# --- services and endpoints -------------------------------------------------------------------


class ServicePort(K8sModel):
    """A port a Service exposes and the pod port (`targetPort`, number or name) it forwards to."""

    name: StrictStr | None = None
    protocol: StrictStr | None = None
    app_protocol: StrictStr | None = None
    port: StrictInt
    target_port: IntOrString | None = None
    node_port: StrictInt | None = None


class ClientIPConfig(K8sModel):
    """How long ClientIP session affinity sticks."""

    timeout_seconds: StrictInt | None = None


class SessionAffinityConfig(K8sModel):
    """Settings of session affinity."""

    client_ip: ClientIPConfig | None = None


class ServiceSpec(K8sModel):
    """The desired state of a Service: the ports it exposes and the pods (selector) behind it."""

    ports: list[ServicePort] | None = merge_list("port")
    selector: dict[str, StrictStr] | None = None
    cluster_ip: StrictStr | None = None
    cluster_ips: list[StrictStr] | None = None
    type: StrictStr | None = None
    external_ips: list[StrictStr] | None = None
    session_affinity: StrictStr | None = None
    load_balancer_ip: StrictStr | None = None
    load_balancer_source_ranges: list[StrictStr] | None = None
    external_name: StrictStr | None = None
    external_traffic_policy: StrictStr | None = None
    health_check_node_port: StrictInt | None = None
    publish_not_ready_addresses: StrictBool | None = None
    session_affinity_config: SessionAffinityConfig | None = None
    ip_families: list[StrictStr] | None = None
    ip_family_policy: StrictStr | None = None
    allocate_load_balancer_node_ports: StrictBool | None = None
    load_balancer_class: StrictStr | None = None
    internal_traffic_policy: StrictStr | None = None
    traffic_distribution: StrictStr | None = None


class PortStatus(K8sModel):
    """The state of one port of a load balancer."""

    port: StrictInt
    protocol: StrictStr
    error: StrictStr | None = None


class LoadBalancerIngress(K8sModel):
    """One address of a load balancer."""

    ip: StrictStr | None = None
    hostname: StrictStr | None = None
    ip_mode: StrictStr | None = None
    ports: list[PortStatus] | None = None


class LoadBalancerStatus(K8sModel):
    """The addresses of a Service's load balancer."""

    ingress: list[LoadBalancerIngress] | None = None


class ServiceStatus(K8sModel):
    """The observed state of a Service."""

    load_balancer: LoadBalancerStatus | None = None
    conditions: list[Condition] | None = merge_list("type")


class Service(K8sModel):
    """A stable virtual address and ports in front of the pods its selector matches."""

    api_version: StrictStr | None = None
    kind: StrictStr | None = None
    metadata: ObjectMeta | None = None
    spec: ServiceSpec | None = None
    status: ServiceStatus | None = None


class EndpointAddress(K8sModel):
    """One endpoint (usually a pod) of a Service."""

    ip: StrictStr
    hostname: StrictStr | None = None
    node_name: StrictStr | None = None
    target_ref: ObjectReference | None = None


class EndpointPort(K8sModel):
    """A port of the endpoints of a subset."""

    name: StrictStr | None = None
    port: StrictInt
    protocol: StrictStr | None = None
    app_protocol: StrictStr | None = None


class EndpointSubset(K8sModel):
    """Addresses that all expose the same ports; the not-ready ones are kept apart."""

    addresses: list[EndpointAddress] | None = None
    not_ready_addresses: list[EndpointAddress] | None = None
    ports: list[EndpointPort] | None = None


class Endpoints(K8sModel):
    """The addresses behind a Service, named after it; written by the endpoints controller."""

    api_version: StrictStr | None = None
    kind: StrictStr | None = None
    metadata: ObjectMeta | None = None
    subsets: list[EndpointSubset] | None = None


# --- nodes ------------------------------------------------------------------------------------


class NodeSpec(K8sModel):
    """The desired state of a node: its pod address range and whether it takes new pods."""

    pod_cidr: StrictStr | None = None
    pod_cidrs: list[StrictStr] | None = merge_list()
    provider_id: StrictStr | None = None
    unschedulable: StrictBool | None = None
    taints: list[Taint] | None = None
    config_source: dict[str, Any] | None = None
    external_id: StrictStr | None = None


class NodeAddress(K8sModel):
    """One address of a node (`InternalIP`, `Hostname`, ...)."""

    type: StrictStr
    address: StrictStr


class NodeCondition(K8sModel):
    """A condition of a node: Ready, MemoryPressure, DiskPressure, PIDPressure, NetworkUnavailable."""

    type: StrictStr
    status: StrictStr
    last_heartbeat_time: Time | None = None
    last_transition_time: Time | None = None
    reason: StrictStr | None = None
    message: StrictStr | None = None


class DaemonEndpoint(K8sModel):
    """A port a node daemon listens on."""

    # Kubernetes spells this one field with a capital letter.
    port: StrictInt = Field(alias="Port")


class NodeDaemonEndpoints(K8sModel):
    """The ports of the daemons of a node."""

    kubelet_endpoint: DaemonEndpoint | None = None


class NodeSystemInfo(K8sModel):
    """Identity and versions reported by a node's kubelet."""

    machine_id: StrictStr | None = None
    system_uuid: StrictStr | None = None
    boot_id: StrictStr | None = None
    kernel_version: StrictStr | None = None
    os_image: StrictStr | None = None
    container_runtime_version: StrictStr | None = None
    kubelet_version: StrictStr | None = None
    kube_proxy_version: StrictStr | None = None
    operating_system: StrictStr | None = None
    architecture: StrictStr | None = None


class ContainerImage(K8sModel):
    """An image present on a node."""

    names: list[StrictStr] | None = None
    size_bytes: StrictInt | None = None


class AttachedVolume(K8sModel):
    """A volume attached to a node."""

    name: StrictStr
    device_path: StrictStr | None = None


class NodeRuntimeHandlerFeatures(K8sModel):
    """What a container runtime handler supports."""

    recursive_read_only_mounts: StrictBool | None = None
    user_namespaces: StrictBool | None = None


class NodeRuntimeHandler(K8sModel):
    """A container runtime handler of a node."""

    name: StrictStr | None = None
    features: NodeRuntimeHandlerFeatures | None = None


class NodeFeatures(K8sModel):
    """Kubelet features a node has."""

    supplemental_groups_policy: StrictBool | None = None


class NodeStatus(K8sModel):
    """The observed state of a node, reported by its kubelet."""

    capacity: dict[str, Quantity] | None = None
    allocatable: dict[str, Quantity] | None = None
    phase: StrictStr | None = None
    conditions: list[NodeCondition] | None = merge_list("type")
    addresses: list[NodeAddress] | None = merge_list("type")
    daemon_endpoints: NodeDaemonEndpoints | None = None
    node_info: NodeSystemInfo | None = None
    images: list[ContainerImage] | None = None
    volumes_in_use: list[StrictStr] | None = None
    volumes_attached: list[AttachedVolume] | None = None
    config: dict[str, Any] | None = None
    runtime_handlers: list[NodeRuntimeHandler] | None = None
    features: NodeFeatures | None = None


class Node(K8sModel):
    """A machine that runs pods, registered by its kubelet."""

    api_version: StrictStr | None = None
    kind: StrictStr | None = None
    metadata: ObjectMeta | None = None
    spec: NodeSpec | None = None
    status: NodeStatus | None = None


# --- namespaces, configuration ----------------------------------------------------------------


class NamespaceSpec(K8sModel):
    """The finalizers that must run before a namespace is removed."""

    finalizers: list[StrictStr] | None = None


class NamespaceCondition(K8sModel):
    """A condition of a namespace (mostly about its deletion)."""

    type: StrictStr
    status: StrictStr
    last_transition_time: Time | None = None
    reason: StrictStr | None = None
    message: StrictStr | None = None


class NamespaceStatus(K8sModel):
    """The phase of a namespace: Active or Terminating."""

    phase: StrictStr | None = None
    conditions: list[NamespaceCondition] | None = merge_list("type")


class Namespace(K8sModel):
    """A scope for names; deleting it deletes everything in it."""

    api_version: StrictStr | None = None
    kind: StrictStr | None = None
    metadata: ObjectMeta | None = None
    spec: NamespaceSpec | None = None
    status: NamespaceStatus | None = None


class ConfigMap(K8sModel):
    """Non-secret configuration: UTF-8 `data` and base64 `binaryData`."""

    api_version: StrictStr | None = None
    kind: StrictStr | None = None
    metadata: ObjectMeta | None = None
    immutable: StrictBool | None = None
    data: dict[str, StrictStr] | None = None
    binary_data: dict[str, StrictStr] | None = None


class Secret(K8sModel):
    """Secret configuration: base64 `data`; `stringData` is merged into it on write."""

    api_version: StrictStr | None = None
    kind: StrictStr | None = None
    metadata: ObjectMeta | None = None
    immutable: StrictBool | None = None
    data: dict[str, StrictStr] | None = None
    string_data: dict[str, StrictStr] | None = None
    type: StrictStr | None = None


# --- service accounts -------------------------------------------------------------------------


class ServiceAccount(K8sModel):
    """An identity for the processes of a pod; every namespace has one named `default`."""

    api_version: StrictStr | None = None
    kind: StrictStr | None = None
    metadata: ObjectMeta | None = None
    secrets: list[ObjectReference] | None = merge_list("name")
    image_pull_secrets: list[LocalObjectReference] | None = None
    automount_service_account_token: StrictBool | None = None


# --- events -----------------------------------------------------------------------------------


class EventSource(K8sModel):
    """The component (and host) that reported an event."""

    component: StrictStr | None = None
    host: StrictStr | None = None


class EventSeries(K8sModel):
    """How often an event recurred and when it was last seen."""

    count: StrictInt | None = None
    last_observed_time: MicroTime | None = None


class Event(K8sModel):
    """A report of something that happened to an object (what `kubectl describe` lists)."""

    api_version: StrictStr | None = None
    kind: StrictStr | None = None
    metadata: ObjectMeta | None = None
    involved_object: ObjectReference
    reason: StrictStr | None = None
    message: StrictStr | None = None
    source: EventSource | None = None
    first_timestamp: Time | None = None
    last_timestamp: Time | None = None
    count: StrictInt | None = None
    type: StrictStr | None = None
    event_time: MicroTime | None = None
    series: EventSeries | None = None
    action: StrictStr | None = None
    related: ObjectReference | None = None
    reporting_component: StrictStr | None = None
    reporting_instance: StrictStr | None = None


MODELS: dict[str, type[K8sModel]] = {
    "Pod": Pod,
    "Binding": Binding,
    "Service": Service,
    "Endpoints": Endpoints,
    "Node": Node,
    "Namespace": Namespace,
    "ConfigMap": ConfigMap,
    "Secret": Secret,
    "ServiceAccount": ServiceAccount,
    "Event": Event,
}
