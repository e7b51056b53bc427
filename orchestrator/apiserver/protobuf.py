"""Decode request bodies sent in Kubernetes' protobuf encoding into Kubernetes JSON.

kubectl's typed-client commands (`create deployment|namespace|configmap|secret|service|job|cronjob|sa`,
`drain --disable-eviction`, `create token`, ...) send `Content-Type: application/vnd.kubernetes.protobuf`.
The body is the 4-byte magic `k8s\\x00` followed by a `runtime.Unknown` message whose `raw` field holds
the object. `decode_protobuf` turns such a body into the dict the same client would have sent as JSON,
so the REST layer (`rest.py`, `read_body` and `delete_options`) treats both encodings alike.

The reader is a small generic protobuf wire-format parser driven by `_SCHEMA`, a table of the
Kubernetes messages we accept: field number -> JSON name and kind. Field numbers come from Kubernetes'
`generated.proto` files; unknown field numbers are skipped, as protobuf readers do.

Zero values: gogo-protobuf always writes non-pointer scalars, so the wire holds `paused: false`,
`hostname: ""`... which Go's JSON (`omitempty`) would leave out. A field marked `!` in the table keeps its
zero value (it is a pointer in types.go, e.g. `replicas *int32`, or its JSON tag has no omitempty, e.g.
`containerPort`); every other scalar is dropped when zero. Message fields are emitted whenever present on
the wire: gogo writes non-pointer structs always (Go's JSON prints them as `{}` too) and pointer
structs only when set.
"""

from __future__ import annotations

import base64
import datetime
import json
import struct
from dataclasses import dataclass

from orchestrator.api import errors

MAGIC = b"k8s\x00"

# Scalar kinds and the wire type each is written with (0 varint, 1 fixed64, 2 length-delimited).
_SCALAR_WIRE_TYPES = {"string": 2, "bytes": 2, "int": 0, "bool": 0, "double": 1}
# Well-known messages with a JSON form of their own (see `_SPECIAL_DECODERS`).
_SPECIAL = {"Time", "MicroTime", "Quantity", "IntOrString", "RawJSON"}

# The schema. One entry per message: `jsonName=number[:kind][!]`, kind defaulting to `string`.
# Kinds: string, bytes, int, bool, double; a special (Time, MicroTime, Quantity, IntOrString,
# RawJSON = a message whose field 1 holds JSON bytes); a message name; `[kind]` repeated;
# `{string}`, `{bytes}`, `{Quantity}` map<string, kind>; `~Message` an embedded (inlined) struct.
# `!` keeps zero values (pointer field, or JSON tag without omitempty).
_SCHEMA: dict[str, str] = {
    # --- k8s.io/apimachinery/pkg/apis/meta/v1
    "ObjectMeta": "name=1 generateName=2 namespace=3 selfLink=4 uid=5 resourceVersion=6 generation=7:int "
                  "creationTimestamp=8:Time deletionTimestamp=9:Time deletionGracePeriodSeconds=10:int! "
                  "labels=11:{string} annotations=12:{string} ownerReferences=13:[OwnerReference] "
                  "finalizers=14:[string] managedFields=17:[ManagedFieldsEntry]",
    "OwnerReference": "kind=1! name=3! uid=4! apiVersion=5! controller=6:bool! blockOwnerDeletion=7:bool!",
    "ManagedFieldsEntry": "manager=1 operation=2 apiVersion=3 time=4:Time fieldsType=6 fieldsV1=7:RawJSON "
                          "subresource=8",
    "LabelSelector": "matchLabels=1:{string} matchExpressions=2:[LabelSelectorRequirement]",
    "LabelSelectorRequirement": "key=1! operator=2! values=3:[string]",
    "Condition": "type=1! status=2! observedGeneration=3:int lastTransitionTime=4:Time reason=5! message=6!",
    "DeleteOptions": "gracePeriodSeconds=1:int! preconditions=2:Preconditions orphanDependents=3:bool! "
                     "propagationPolicy=4! dryRun=5:[string] "
                     "ignoreStoreReadErrorWithClusterBreakingPotential=6:bool!",
    "Preconditions": "uid=1! resourceVersion=2!",
    # --- k8s.io/api/core/v1: pods
    "Pod": "metadata=1:ObjectMeta spec=2:PodSpec status=3:PodStatus",
    "PodTemplateSpec": "metadata=1:ObjectMeta spec=2:PodSpec",
    "PodSpec": "volumes=1:[Volume] containers=2:[Container] restartPolicy=3 terminationGracePeriodSeconds=4:int! "
               "activeDeadlineSeconds=5:int! dnsPolicy=6 nodeSelector=7:{string} serviceAccountName=8 "
               "serviceAccount=9 nodeName=10 hostNetwork=11:bool hostPID=12:bool hostIPC=13:bool "
               "securityContext=14:PodSecurityContext imagePullSecrets=15:[LocalObjectReference] hostname=16 "
               "subdomain=17 affinity=18:Affinity schedulerName=19 initContainers=20:[Container] "
               "automountServiceAccountToken=21:bool! tolerations=22:[Toleration] hostAliases=23:[HostAlias] "
               "priorityClassName=24 priority=25:int! dnsConfig=26:PodDNSConfig shareProcessNamespace=27:bool! "
               "readinessGates=28:[PodReadinessGate] runtimeClassName=29! enableServiceLinks=30:bool! "
               "preemptionPolicy=31! overhead=32:{Quantity} topologySpreadConstraints=33:[TopologySpreadConstraint] "
               "ephemeralContainers=34:[EphemeralContainer] setHostnameAsFQDN=35:bool! os=36:PodOS "
               "hostUsers=37:bool! schedulingGates=38:[PodSchedulingGate] resourceClaims=39:[PodResourceClaim] "
               "resources=40:ResourceRequirements hostnameOverride=41!",
    # EphemeralContainerCommon uses Container's field numbers, so Container stands in for it.
    "Container": "name=1! image=2 command=3:[string] args=4:[string] workingDir=5 ports=6:[ContainerPort] "
                 "env=7:[EnvVar] resources=8:ResourceRequirements volumeMounts=9:[VolumeMount] "
                 "livenessProbe=10:Probe readinessProbe=11:Probe lifecycle=12:Lifecycle terminationMessagePath=13 "
                 "imagePullPolicy=14 securityContext=15:SecurityContext stdin=16:bool stdinOnce=17:bool tty=18:bool "
                 "envFrom=19:[EnvFromSource] terminationMessagePolicy=20 volumeDevices=21:[VolumeDevice] "
                 "startupProbe=22:Probe resizePolicy=23:[ContainerResizePolicy] restartPolicy=24!",
    "EphemeralContainer": "ephemeralContainerCommon=1:~Container targetContainerName=2",
    "ContainerPort": "name=1 hostPort=2:int containerPort=3:int! protocol=4 hostIP=5",
    "ContainerResizePolicy": "resourceName=1! restartPolicy=2!",
    "EnvVar": "name=1! value=2 valueFrom=3:EnvVarSource",
    "EnvVarSource": "fieldRef=1:ObjectFieldSelector resourceFieldRef=2:ResourceFieldSelector "
                    "configMapKeyRef=3:ConfigMapKeySelector secretKeyRef=4:SecretKeySelector",
    "EnvFromSource": "prefix=1 configMapRef=2:ConfigMapEnvSource secretRef=3:SecretEnvSource",
    "ConfigMapEnvSource": "localObjectReference=1:~LocalObjectReference optional=2:bool!",
    "SecretEnvSource": "localObjectReference=1:~LocalObjectReference optional=2:bool!",
    "ConfigMapKeySelector": "localObjectReference=1:~LocalObjectReference key=2! optional=3:bool!",
    "SecretKeySelector": "localObjectReference=1:~LocalObjectReference key=2! optional=3:bool!",
    "ObjectFieldSelector": "apiVersion=1 fieldPath=2!",
    "ResourceFieldSelector": "containerName=1 resource=2! divisor=3:Quantity",
    "LocalObjectReference": "name=1",
    "ResourceRequirements": "limits=1:{Quantity} requests=2:{Quantity} claims=3:[ResourceClaim]",
    "ResourceClaim": "name=1! request=2",
    "VolumeMount": "name=1! readOnly=2:bool mountPath=3! subPath=4 mountPropagation=5! subPathExpr=6 "
                   "recursiveReadOnly=7!",
    "VolumeDevice": "name=1! devicePath=2!",
    "Probe": "handler=1:~ProbeHandler initialDelaySeconds=2:int timeoutSeconds=3:int periodSeconds=4:int "
             "successThreshold=5:int failureThreshold=6:int terminationGracePeriodSeconds=7:int!",
    "ProbeHandler": "exec=1:ExecAction httpGet=2:HTTPGetAction tcpSocket=3:TCPSocketAction grpc=4:GRPCAction",
    "Lifecycle": "postStart=1:LifecycleHandler preStop=2:LifecycleHandler stopSignal=3!",
    "LifecycleHandler": "exec=1:ExecAction httpGet=2:HTTPGetAction tcpSocket=3:TCPSocketAction sleep=4:SleepAction",
    "ExecAction": "command=1:[string]",
    "HTTPGetAction": "path=1 port=2:IntOrString host=3 scheme=4 httpHeaders=5:[HTTPHeader]",
    "HTTPHeader": "name=1! value=2!",
    "TCPSocketAction": "port=1:IntOrString host=2",
    "GRPCAction": "port=1:int! service=2!",
    "SleepAction": "seconds=1:int!",
    "SecurityContext": "capabilities=1:Capabilities privileged=2:bool! seLinuxOptions=3:SELinuxOptions "
                       "runAsUser=4:int! runAsNonRoot=5:bool! readOnlyRootFilesystem=6:bool! "
                       "allowPrivilegeEscalation=7:bool! runAsGroup=8:int! procMount=9! "
                       "windowsOptions=10:WindowsSecurityContextOptions seccompProfile=11:SeccompProfile "
                       "appArmorProfile=12:AppArmorProfile",
    "Capabilities": "add=1:[string] drop=2:[string]",
    "SELinuxOptions": "user=1 role=2 type=3 level=4",
    "WindowsSecurityContextOptions": "gmsaCredentialSpecName=1! gmsaCredentialSpec=2! runAsUserName=3! "
                                     "hostProcess=4:bool!",
    "SeccompProfile": "type=1! localhostProfile=2!",
    "AppArmorProfile": "type=1! localhostProfile=2!",
    "PodSecurityContext": "seLinuxOptions=1:SELinuxOptions runAsUser=2:int! runAsNonRoot=3:bool! "
                          "supplementalGroups=4:[int] fsGroup=5:int! runAsGroup=6:int! sysctls=7:[Sysctl] "
                          "windowsOptions=8:WindowsSecurityContextOptions fsGroupChangePolicy=9! "
                          "seccompProfile=10:SeccompProfile appArmorProfile=11:AppArmorProfile "
                          "supplementalGroupsPolicy=12! seLinuxChangePolicy=13!",
    "Sysctl": "name=1! value=2!",
    "Volume": "name=1! volumeSource=2:~VolumeSource",
    "VolumeSource": "hostPath=1:HostPathVolumeSource emptyDir=2:EmptyDirVolumeSource secret=6:SecretVolumeSource "
                    "nfs=7:NFSVolumeSource persistentVolumeClaim=10:PersistentVolumeClaimVolumeSource "
                    "downwardAPI=16:DownwardAPIVolumeSource configMap=19:ConfigMapVolumeSource "
                    "projected=26:ProjectedVolumeSource image=30:ImageVolumeSource",
    "HostPathVolumeSource": "path=1! type=2!",
    "EmptyDirVolumeSource": "medium=1 sizeLimit=2:Quantity",
    "NFSVolumeSource": "server=1! path=2! readOnly=3:bool",
    "SecretVolumeSource": "secretName=1 items=2:[KeyToPath] defaultMode=3:int! optional=4:bool!",
    "ConfigMapVolumeSource": "localObjectReference=1:~LocalObjectReference items=2:[KeyToPath] defaultMode=3:int! "
                             "optional=4:bool!",
    "KeyToPath": "key=1! path=2! mode=3:int!",
    "ProjectedVolumeSource": "sources=1:[VolumeProjection] defaultMode=2:int!",
    "VolumeProjection": "secret=1:SecretProjection downwardAPI=2:DownwardAPIProjection configMap=3:ConfigMapProjection "
                        "serviceAccountToken=4:ServiceAccountTokenProjection "
                        "clusterTrustBundle=5:ClusterTrustBundleProjection",
    "SecretProjection": "localObjectReference=1:~LocalObjectReference items=2:[KeyToPath] optional=4:bool!",
    "ConfigMapProjection": "localObjectReference=1:~LocalObjectReference items=2:[KeyToPath] optional=4:bool!",
    "DownwardAPIProjection": "items=1:[DownwardAPIVolumeFile]",
    "ServiceAccountTokenProjection": "audience=1 expirationSeconds=2:int! path=3!",
    "ClusterTrustBundleProjection": "name=1! signerName=2! labelSelector=3:LabelSelector path=4! optional=5:bool!",
    "DownwardAPIVolumeSource": "items=1:[DownwardAPIVolumeFile] defaultMode=2:int!",
    "DownwardAPIVolumeFile": "path=1! fieldRef=2:ObjectFieldSelector resourceFieldRef=3:ResourceFieldSelector "
                             "mode=4:int!",
    "PersistentVolumeClaimVolumeSource": "claimName=1! readOnly=2:bool",
    "ImageVolumeSource": "reference=1 pullPolicy=2",
    "Affinity": "nodeAffinity=1:NodeAffinity podAffinity=2:PodAffinity podAntiAffinity=3:PodAntiAffinity",
    "NodeAffinity": "requiredDuringSchedulingIgnoredDuringExecution=1:NodeSelector "
                    "preferredDuringSchedulingIgnoredDuringExecution=2:[PreferredSchedulingTerm]",
    "NodeSelector": "nodeSelectorTerms=1:[NodeSelectorTerm]",
    "NodeSelectorTerm": "matchExpressions=1:[NodeSelectorRequirement] matchFields=2:[NodeSelectorRequirement]",
    "NodeSelectorRequirement": "key=1! operator=2! values=3:[string]",
    "PreferredSchedulingTerm": "weight=1:int! preference=2:NodeSelectorTerm",
    "PodAffinity": "requiredDuringSchedulingIgnoredDuringExecution=1:[PodAffinityTerm] "
                   "preferredDuringSchedulingIgnoredDuringExecution=2:[WeightedPodAffinityTerm]",
    "PodAntiAffinity": "requiredDuringSchedulingIgnoredDuringExecution=1:[PodAffinityTerm] "
                       "preferredDuringSchedulingIgnoredDuringExecution=2:[WeightedPodAffinityTerm]",
    "PodAffinityTerm": "labelSelector=1:LabelSelector namespaces=2:[string] topologyKey=3! "
                       "namespaceSelector=4:LabelSelector matchLabelKeys=5:[string] mismatchLabelKeys=6:[string]",
    "WeightedPodAffinityTerm": "weight=1:int! podAffinityTerm=2:PodAffinityTerm",
    "Toleration": "key=1 operator=2 value=3 effect=4 tolerationSeconds=5:int!",
    "TopologySpreadConstraint": "maxSkew=1:int! topologyKey=2! whenUnsatisfiable=3! labelSelector=4:LabelSelector "
                                "minDomains=5:int! nodeAffinityPolicy=6! nodeTaintsPolicy=7! matchLabelKeys=8:[string]",
    "HostAlias": "ip=1! hostnames=2:[string]",
    "PodDNSConfig": "nameservers=1:[string] searches=2:[string] options=3:[PodDNSConfigOption]",
    "PodDNSConfigOption": "name=1 value=2!",
    "PodReadinessGate": "conditionType=1!",
    "PodOS": "name=1!",
    "PodSchedulingGate": "name=1!",
    "PodResourceClaim": "name=1! resourceClaimName=3! resourceClaimTemplateName=4!",
    "PodStatus": "phase=1 conditions=2:[PodCondition] message=3 reason=4 hostIP=5 podIP=6 startTime=7:Time "
                 "containerStatuses=8:[ContainerStatus] qosClass=9 initContainerStatuses=10:[ContainerStatus] "
                 "nominatedNodeName=11 podIPs=12:[PodIP] ephemeralContainerStatuses=13:[ContainerStatus] resize=14 "
                 "resourceClaimStatuses=15:[PodResourceClaimStatus] hostIPs=16:[HostIP] observedGeneration=17:int",
    "PodCondition": "type=1! status=2! lastProbeTime=3:Time lastTransitionTime=4:Time reason=5 message=6 "
                    "observedGeneration=7:int",
    "PodIP": "ip=1!",
    "HostIP": "ip=1!",
    "PodResourceClaimStatus": "name=1! resourceClaimName=2!",
    "ContainerStatus": "name=1! state=2:ContainerState lastState=3:ContainerState ready=4:bool! restartCount=5:int! "
                       "image=6! imageID=7! containerID=8 started=9:bool! allocatedResources=10:{Quantity} "
                       "resources=11:ResourceRequirements volumeMounts=12:[VolumeMountStatus] user=13:ContainerUser "
                       "stopSignal=15!",
    "ContainerState": "waiting=1:ContainerStateWaiting running=2:ContainerStateRunning "
                      "terminated=3:ContainerStateTerminated",
    "ContainerStateWaiting": "reason=1 message=2",
    "ContainerStateRunning": "startedAt=1:Time",
    "ContainerStateTerminated": "exitCode=1:int! signal=2:int reason=3 message=4 startedAt=5:Time finishedAt=6:Time "
                                "containerID=7",
    "VolumeMountStatus": "name=1! mountPath=2! readOnly=3:bool recursiveReadOnly=4!",
    "ContainerUser": "linux=1:LinuxContainerUser",
    "LinuxContainerUser": "uid=1:int! gid=2:int! supplementalGroups=3:[int]",
    "Binding": "metadata=1:ObjectMeta target=2:ObjectReference",
    "ObjectReference": "kind=1 namespace=2 name=3 uid=4 apiVersion=5 resourceVersion=6 fieldPath=7",
    # --- core/v1: services, endpoints, namespaces, config
    "Service": "metadata=1:ObjectMeta spec=2:ServiceSpec status=3:ServiceStatus",
    "ServiceSpec": "ports=1:[ServicePort] selector=2:{string} clusterIP=3 type=4 externalIPs=5:[string] "
                   "sessionAffinity=7 loadBalancerIP=8 loadBalancerSourceRanges=9:[string] externalName=10 "
                   "externalTrafficPolicy=11 healthCheckNodePort=12:int publishNotReadyAddresses=13:bool "
                   "sessionAffinityConfig=14:SessionAffinityConfig ipFamilyPolicy=17! clusterIPs=18:[string] "
                   "ipFamilies=19:[string] allocateLoadBalancerNodePorts=20:bool! loadBalancerClass=21! "
                   "internalTrafficPolicy=22! trafficDistribution=23!",
    "ServicePort": "name=1 protocol=2 port=3:int! targetPort=4:IntOrString nodePort=5:int appProtocol=6!",
    "ServiceStatus": "loadBalancer=1:LoadBalancerStatus conditions=2:[Condition]",
    "LoadBalancerStatus": "ingress=1:[LoadBalancerIngress]",
    "LoadBalancerIngress": "ip=1 hostname=2 ipMode=3! ports=4:[PortStatus]",
    "PortStatus": "port=1:int! protocol=2! error=3!",
    "SessionAffinityConfig": "clientIP=1:ClientIPConfig",
    "ClientIPConfig": "timeoutSeconds=1:int!",
    "Endpoints": "metadata=1:ObjectMeta subsets=2:[EndpointSubset]",
    "EndpointSubset": "addresses=1:[EndpointAddress] notReadyAddresses=2:[EndpointAddress] ports=3:[EndpointPort]",
    "EndpointAddress": "ip=1! targetRef=2:ObjectReference hostname=3 nodeName=4!",
    "EndpointPort": "name=1 port=2:int! protocol=3 appProtocol=4!",
    "Namespace": "metadata=1:ObjectMeta spec=2:NamespaceSpec status=3:NamespaceStatus",
    "NamespaceSpec": "finalizers=1:[string]",
    "NamespaceStatus": "phase=1 conditions=2:[NamespaceCondition]",
    "NamespaceCondition": "type=1! status=2! lastTransitionTime=4:Time reason=5 message=6",
    "ConfigMap": "metadata=1:ObjectMeta data=2:{string} binaryData=3:{bytes} immutable=4:bool!",
    "Secret": "metadata=1:ObjectMeta data=2:{bytes} type=3 stringData=4:{string} immutable=5:bool!",
    "ServiceAccount": "metadata=1:ObjectMeta secrets=2:[ObjectReference] imagePullSecrets=3:[LocalObjectReference] "
                      "automountServiceAccountToken=4:bool!",
    # --- core/v1: nodes and events
    "Node": "metadata=1:ObjectMeta spec=2:NodeSpec status=3:NodeStatus",
    "NodeSpec": "podCIDR=1 externalID=2 providerID=3 unschedulable=4:bool taints=5:[Taint] podCIDRs=7:[string]",
    "Taint": "key=1! value=2 effect=3! timeAdded=4:Time",
    "NodeStatus": "capacity=1:{Quantity} allocatable=2:{Quantity} phase=3 conditions=4:[NodeCondition] "
                  "addresses=5:[NodeAddress] daemonEndpoints=6:NodeDaemonEndpoints nodeInfo=7:NodeSystemInfo "
                  "images=8:[ContainerImage] volumesInUse=9:[string] volumesAttached=10:[AttachedVolume] "
                  "runtimeHandlers=12:[NodeRuntimeHandler] features=13:NodeFeatures declaredFeatures=14:[string]",
    "NodeCondition": "type=1! status=2! lastHeartbeatTime=3:Time lastTransitionTime=4:Time reason=5 message=6",
    "NodeAddress": "type=1! address=2!",
    "NodeDaemonEndpoints": "kubeletEndpoint=1:DaemonEndpoint",
    "DaemonEndpoint": "Port=1:int!",
    "NodeSystemInfo": "machineID=1! systemUUID=2! bootID=3! kernelVersion=4! osImage=5! containerRuntimeVersion=6! "
                      "kubeletVersion=7! kubeProxyVersion=8! operatingSystem=9! architecture=10! "
                      "swap=11:NodeSwapStatus",
    "NodeSwapStatus": "capacity=1:int!",
    "ContainerImage": "names=1:[string] sizeBytes=2:int",
    "AttachedVolume": "name=1! devicePath=2!",
    "NodeRuntimeHandler": "name=1! features=2:NodeRuntimeHandlerFeatures",
    "NodeRuntimeHandlerFeatures": "recursiveReadOnlyMounts=1:bool! userNamespaces=2:bool!",
    "NodeFeatures": "supplementalGroupsPolicy=1:bool!",
    "Event": "metadata=1:ObjectMeta involvedObject=2:ObjectReference reason=3 message=4 source=5:EventSource "
             "firstTimestamp=6:Time lastTimestamp=7:Time count=8:int type=9 eventTime=10:MicroTime "
             "series=11:EventSeries action=12 related=13:ObjectReference reportingComponent=14! "
             "reportingInstance=15!",
    "EventSource": "component=1 host=2",
    "EventSeries": "count=1:int lastObservedTime=2:MicroTime",
    # --- k8s.io/api/apps/v1
    "Deployment": "metadata=1:ObjectMeta spec=2:DeploymentSpec status=3:DeploymentStatus",
    "DeploymentSpec": "replicas=1:int! selector=2:LabelSelector template=3:PodTemplateSpec "
                      "strategy=4:DeploymentStrategy minReadySeconds=5:int revisionHistoryLimit=6:int! "
                      "paused=7:bool progressDeadlineSeconds=9:int! podReplacementPolicy=10!",
    "DeploymentStrategy": "type=1 rollingUpdate=2:RollingUpdateDeployment",
    "RollingUpdateDeployment": "maxUnavailable=1:IntOrString maxSurge=2:IntOrString",
    "DeploymentStatus": "observedGeneration=1:int replicas=2:int updatedReplicas=3:int availableReplicas=4:int "
                        "unavailableReplicas=5:int conditions=6:[DeploymentCondition] readyReplicas=7:int "
                        "collisionCount=8:int! terminatingReplicas=9:int!",
    "DeploymentCondition": "type=1! status=2! reason=4 message=5 lastUpdateTime=6:Time lastTransitionTime=7:Time",
    "ReplicaSet": "metadata=1:ObjectMeta spec=2:ReplicaSetSpec status=3:ReplicaSetStatus",
    "ReplicaSetSpec": "replicas=1:int! selector=2:LabelSelector template=3:PodTemplateSpec minReadySeconds=4:int",
    "ReplicaSetStatus": "replicas=1:int! fullyLabeledReplicas=2:int observedGeneration=3:int readyReplicas=4:int "
                        "availableReplicas=5:int conditions=6:[ReplicaSetCondition] terminatingReplicas=7:int!",
    "ReplicaSetCondition": "type=1! status=2! lastTransitionTime=3:Time reason=4 message=5",
    # --- k8s.io/api/batch/v1
    "Job": "metadata=1:ObjectMeta spec=2:JobSpec status=3:JobStatus",
    "JobSpec": "parallelism=1:int! completions=2:int! activeDeadlineSeconds=3:int! selector=4:LabelSelector "
               "manualSelector=5:bool! template=6:PodTemplateSpec backoffLimit=7:int! ttlSecondsAfterFinished=8:int! "
               "completionMode=9! suspend=10:bool! podFailurePolicy=11:PodFailurePolicy backoffLimitPerIndex=12:int! "
               "maxFailedIndexes=13:int! podReplacementPolicy=14! managedBy=15! successPolicy=16:SuccessPolicy",
    "PodFailurePolicy": "rules=1:[PodFailurePolicyRule]",
    "PodFailurePolicyRule": "action=1! onExitCodes=2:PodFailurePolicyOnExitCodesRequirement "
                            "onPodConditions=3:[PodFailurePolicyOnPodConditionsPattern]",
    "PodFailurePolicyOnExitCodesRequirement": "containerName=1! operator=2! values=3:[int]",
    "PodFailurePolicyOnPodConditionsPattern": "type=1! status=2!",
    "SuccessPolicy": "rules=1:[SuccessPolicyRule]",
    "SuccessPolicyRule": "succeededIndexes=1! succeededCount=2:int!",
    "JobStatus": "conditions=1:[JobCondition] startTime=2:Time completionTime=3:Time active=4:int succeeded=5:int "
                 "failed=6:int completedIndexes=7 uncountedTerminatedPods=8:UncountedTerminatedPods ready=9:int! "
                 "failedIndexes=10! terminating=11:int!",
    "JobCondition": "type=1! status=2! lastProbeTime=3:Time lastTransitionTime=4:Time reason=5 message=6",
    "UncountedTerminatedPods": "succeeded=1:[string] failed=2:[string]",
    "JobTemplateSpec": "metadata=1:ObjectMeta spec=2:JobSpec",
    "CronJob": "metadata=1:ObjectMeta spec=2:CronJobSpec status=3:CronJobStatus",
    "CronJobSpec": "schedule=1! startingDeadlineSeconds=2:int! concurrencyPolicy=3 suspend=4:bool! "
                   "jobTemplate=5:JobTemplateSpec successfulJobsHistoryLimit=6:int! failedJobsHistoryLimit=7:int! "
                   "timeZone=8!",
    "CronJobStatus": "active=1:[ObjectReference] lastScheduleTime=4:Time lastSuccessfulTime=5:Time",
    # --- coordination/v1, policy/v1, autoscaling/v1, authentication/v1
    "Lease": "metadata=1:ObjectMeta spec=2:LeaseSpec",
    "LeaseSpec": "holderIdentity=1! leaseDurationSeconds=2:int! acquireTime=3:MicroTime renewTime=4:MicroTime "
                 "leaseTransitions=5:int! strategy=6! preferredHolder=7!",
    "Eviction": "metadata=1:ObjectMeta deleteOptions=2:DeleteOptions",
    "Scale": "metadata=1:ObjectMeta spec=2:ScaleSpec status=3:ScaleStatus",
    "ScaleSpec": "replicas=1:int",
    "ScaleStatus": "replicas=1:int! selector=2",
    # --- k8s.io/api/autoscaling/v1: HorizontalPodAutoscaler (what `kubectl autoscale` sends)
    "HorizontalPodAutoscalerV1": "metadata=1:ObjectMeta spec=2:HorizontalPodAutoscalerSpecV1 "
                                 "status=3:HorizontalPodAutoscalerStatusV1",
    "HorizontalPodAutoscalerSpecV1": "scaleTargetRef=1:CrossVersionObjectReference minReplicas=2:int! "
                                     "maxReplicas=3:int! targetCPUUtilizationPercentage=4:int!",
    "CrossVersionObjectReference": "kind=1! name=2! apiVersion=3",
    "HorizontalPodAutoscalerStatusV1": "observedGeneration=1:int! lastScaleTime=2:Time currentReplicas=3:int! "
                                       "desiredReplicas=4:int! currentCPUUtilizationPercentage=5:int!",
    "TokenRequest": "metadata=1:ObjectMeta spec=2:TokenRequestSpec status=3:TokenRequestStatus",
    "TokenRequestSpec": "audiences=1:[string] boundObjectRef=3:BoundObjectReference expirationSeconds=4:int!",
    "BoundObjectReference": "kind=1 apiVersion=2 name=3 uid=4",
    "TokenRequestStatus": "token=1! expirationTimestamp=2:Time",
    # --- rbac.authorization.k8s.io/v1, authorization.k8s.io/v1, authentication.k8s.io/v1 (orchestrator/apiserver/rbac/)
    "Role": "metadata=1:ObjectMeta rules=2:[PolicyRule]",
    "ClusterRole": "metadata=1:ObjectMeta rules=2:[PolicyRule] aggregationRule=3:AggregationRule",
    "PolicyRule": "verbs=1:[string] apiGroups=2:[string] resources=3:[string] resourceNames=4:[string] "
                  "nonResourceURLs=5:[string]",
    "AggregationRule": "clusterRoleSelectors=1:[LabelSelector]",
    "RoleBinding": "metadata=1:ObjectMeta subjects=2:[Subject] roleRef=3:RoleRef",
    "ClusterRoleBinding": "metadata=1:ObjectMeta subjects=2:[Subject] roleRef=3:RoleRef",
    "Subject": "kind=1! apiGroup=2 name=3! namespace=4",
    "RoleRef": "apiGroup=1! kind=2! name=3!",
    "SelfSubjectAccessReview": "metadata=1:ObjectMeta spec=2:SelfSubjectAccessReviewSpec",
    "SelfSubjectAccessReviewSpec": "resourceAttributes=1:ResourceAttributes nonResourceAttributes=2:NonResourceAttributes",
    "ResourceAttributes": "namespace=1 verb=2 group=3 version=4 resource=5 subresource=6 name=7",
    "NonResourceAttributes": "path=1 verb=2",
    "SubjectAccessReview": "metadata=1:ObjectMeta spec=2:SubjectAccessReviewSpec",
    "SubjectAccessReviewSpec": "resourceAttributes=1:ResourceAttributes nonResourceAttributes=2:NonResourceAttributes "
                               "user=3 groups=4:[string] uid=6",
    "SelfSubjectRulesReview": "metadata=1:ObjectMeta spec=2:SelfSubjectRulesReviewSpec",
    "SelfSubjectRulesReviewSpec": "namespace=1",
    "SelfSubjectReview": "metadata=1:ObjectMeta",
    # --- networking.k8s.io/v1 (`kubectl create ingress` sends protobuf)
    "Ingress": "metadata=1:ObjectMeta spec=2:IngressSpec status=3:IngressStatus",
    "IngressSpec": "defaultBackend=1:IngressBackend tls=2:[IngressTLS] rules=3:[IngressRule] ingressClassName=4!",
    "IngressBackend": "resource=3:TypedLocalObjectReference service=4:IngressServiceBackend",
    "TypedLocalObjectReference": "apiGroup=1! kind=2! name=3!",
    "IngressServiceBackend": "name=1! port=2:ServiceBackendPort",
    "ServiceBackendPort": "name=1 number=2:int",
    "IngressTLS": "hosts=1:[string] secretName=2",
    "IngressRule": "host=1 ingressRuleValue=2:~IngressRuleValue",
    "IngressRuleValue": "http=1:HTTPIngressRuleValue",
    "HTTPIngressRuleValue": "paths=1:[HTTPIngressPath]",
    "HTTPIngressPath": "path=1 backend=2:IngressBackend pathType=3!",
    "IngressStatus": "loadBalancer=1:IngressLoadBalancerStatus",
    "IngressLoadBalancerStatus": "ingress=1:[IngressLoadBalancerIngress]",
    "IngressLoadBalancerIngress": "ip=1 hostname=2 ports=4:[IngressPortStatus]",
    "IngressPortStatus": "port=1:int! protocol=2! error=3!",
    "IngressClass": "metadata=1:ObjectMeta spec=2:IngressClassSpec",
    "IngressClassSpec": "controller=1 parameters=2:IngressClassParametersReference",
    "IngressClassParametersReference": "apiGroup=1! kind=2! name=3! scope=4! namespace=5!",
}

# (apiVersion, kind) of the top-level objects we decode -> message name.
_TOP_LEVEL: dict[tuple[str, str], str] = {
    **{("v1", kind): kind for kind in
       ("Pod", "Service", "Namespace", "ConfigMap", "Secret", "ServiceAccount", "Endpoints", "Node", "Event",
        "Binding")},
    ("apps/v1", "Deployment"): "Deployment",
    ("apps/v1", "ReplicaSet"): "ReplicaSet",
    ("batch/v1", "Job"): "Job",
    ("batch/v1", "CronJob"): "CronJob",
    ("coordination.k8s.io/v1", "Lease"): "Lease",
    ("policy/v1", "Eviction"): "Eviction",
    ("autoscaling/v1", "Scale"): "Scale",
    ("autoscaling/v1", "HorizontalPodAutoscaler"): "HorizontalPodAutoscalerV1",
    ("authentication.k8s.io/v1", "TokenRequest"): "TokenRequest",
    **{("rbac.authorization.k8s.io/v1", kind): kind for kind in ("Role", "ClusterRole", "RoleBinding",
                                                                  "ClusterRoleBinding")},
    **{("authorization.k8s.io/v1", kind): kind for kind in ("SelfSubjectAccessReview", "SubjectAccessReview",
                                                             "SelfSubjectRulesReview")},
    ("authorization.k8s.io/v1", "LocalSubjectAccessReview"): "SubjectAccessReview",
    ("authentication.k8s.io/v1", "SelfSubjectReview"): "SelfSubjectReview",
    ("networking.k8s.io/v1", "Ingress"): "Ingress",
    ("networking.k8s.io/v1", "IngressClass"): "IngressClass",
}
# Option types every group version registers (client-go encodes DeleteOptions with the client's group version).
_ANY_GROUP_VERSION = {"DeleteOptions"}


@dataclass(frozen=True)
class _Field:
    json_name: str
    kind: str  # scalar, special or message name
    repeated: bool = False
    is_map: bool = False
    inline: bool = False
    keep_zero: bool = False


def _parse_field(token: str) -> tuple[int, _Field]:
    name, _, rest = token.partition("=")
    number_text, _, kind = rest.partition(":")
    keep_zero = kind.endswith("!") or number_text.endswith("!")
    number, kind = int(number_text.rstrip("!")), (kind.rstrip("!") or "string")
    if kind.startswith("["):
        return number, _Field(name, kind[1:-1], repeated=True)
    if kind.startswith("{"):
        return number, _Field(name, kind[1:-1], is_map=True)
    if kind.startswith("~"):
        return number, _Field(name, kind[1:], inline=True)
    return number, _Field(name, kind, keep_zero=keep_zero)


_MESSAGES: dict[str, dict[int, _Field]] = {
    message: dict(_parse_field(token) for token in spec.split()) for message, spec in _SCHEMA.items()
}


class _Malformed(ValueError):
    """The bytes are not a well-formed protobuf message of the expected shape."""


# ---------------------------------------------------------------- wire format


def _read_varint(data: bytes, position: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if position >= len(data):
            raise _Malformed("truncated varint")
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, position
        shift += 7
        if shift >= 64:
            raise _Malformed("varint longer than 10 bytes")


def _fields(data: bytes):
    """Yield (field number, wire type, value) for each field; value is an int or the raw bytes."""
    position = 0
    while position < len(data):
        key, position = _read_varint(data, position)
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise _Malformed("field number 0")
        if wire_type == 0:
            value, position = _read_varint(data, position)
        elif wire_type == 1 or wire_type == 5:
            width = 8 if wire_type == 1 else 4
            value, position = data[position:position + width], position + width
            if len(value) != width:
                raise _Malformed("truncated fixed-width field")
        elif wire_type == 2:
            length, position = _read_varint(data, position)
            value, position = data[position:position + length], position + length
            if len(value) != length:
                raise _Malformed(f"field {number} runs past the end of its message")
        else:
            raise _Malformed(f"unsupported wire type {wire_type} (field {number})")
        yield number, wire_type, value


def _signed(value: int) -> int:
    # int32 and int64 are plain two's-complement varints: negative numbers use all 64 bits.
    return value - (1 << 64) if value >= 1 << 63 else value


# ---------------------------------------------------------------- special messages


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def _format_time(seconds: int, *, micros: int | None) -> str:
    """RFC 3339 in UTC, as metav1.Time (`2006-01-02T15:04:05Z`) or MicroTime (`...05.000000Z`) write it."""
    try:
        moment = _EPOCH + datetime.timedelta(seconds=seconds)
    except OverflowError as error:
        raise _Malformed(f"timestamp {seconds} is out of range") from error
    text = (f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
            f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}")
    return f"{text}.{micros:06d}Z" if micros is not None else f"{text}Z"


class _SmallMessage:
    """The fields of a tiny well-known message (Time, Quantity, ...), read by number with their wire type checked."""

    def __init__(self, data: bytes, name: str):
        self.name = name
        self.values = {number: value for number, _, value in _fields(data)}

    def integer(self, number: int) -> int:
        value = self.values.get(number, 0)
        if not isinstance(value, int):
            raise _Malformed(f"{self.name} field {number} should be a varint")
        return _signed(value)

    def raw(self, number: int) -> bytes:
        value = self.values.get(number, b"")
        if not isinstance(value, bytes):
            raise _Malformed(f"{self.name} field {number} should be length-delimited")
        return value


def _decode_time(data: bytes) -> str | None:
    # An empty message is Go's zero time, which metav1.Time writes to JSON as null. Time keeps whole seconds.
    if not data:
        return None
    return _format_time(_SmallMessage(data, "Time").integer(1), micros=None)


def _decode_micro_time(data: bytes) -> str | None:
    if not data:
        return None
    message = _SmallMessage(data, "MicroTime")
    return _format_time(message.integer(1), micros=max(message.integer(2), 0) // 1000)


def _decode_quantity(data: bytes) -> str:
    # Go writes a zero Quantity as "0"; the wire always carries its string form in field 1.
    return _text(_SmallMessage(data, "Quantity").raw(1)) or "0"


def _decode_int_or_string(data: bytes) -> int | str:
    message = _SmallMessage(data, "IntOrString")  # type=1 (0 int, 1 string), intVal=2, strVal=3
    return _text(message.raw(3)) if message.integer(1) == 1 else message.integer(2)


def _decode_raw_json(data: bytes):
    raw = _SmallMessage(data, "raw object").raw(1)
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError as error:
        raise _Malformed(f"embedded raw object is not JSON: {error}") from error


_SPECIAL_DECODERS = {
    "Time": _decode_time,
    "MicroTime": _decode_micro_time,
    "Quantity": _decode_quantity,
    "IntOrString": _decode_int_or_string,
    "RawJSON": _decode_raw_json,
}


# ---------------------------------------------------------------- messages


def _text(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _Malformed(f"string field is not valid UTF-8: {error}") from error


def _expect_wire(kind: str, wire_type: int, name: str) -> None:
    expected = _SCALAR_WIRE_TYPES.get(kind, 2)  # messages and specials are length-delimited
    if wire_type != expected:
        raise _Malformed(f"field {name!r} has wire type {wire_type}, expected {expected}")


def _decode_single(kind: str, wire_type: int, value, name: str):
    _expect_wire(kind, wire_type, name)
    if kind == "string":
        return _text(value)
    if kind == "bytes":
        return base64.b64encode(value).decode("ascii")
    if kind == "int":
        return _signed(value)
    if kind == "bool":
        return value != 0
    if kind == "double":
        return struct.unpack("<d", value)[0]
    if kind in _SPECIAL:
        return _SPECIAL_DECODERS[kind](value)
    return _decode_message(value, kind)


def _decode_repeated(kind: str, wire_type: int, value, name: str) -> list:
    # proto2 repeated scalars may arrive one per field or packed into one length-delimited field.
    if wire_type == 2 and _SCALAR_WIRE_TYPES.get(kind, 2) != 2:
        items, position = [], 0
        while position < len(value):
            if kind == "double":
                if position + 8 > len(value):
                    raise _Malformed(f"field {name!r} has a truncated packed double")
                items.append(struct.unpack("<d", value[position:position + 8])[0])
                position += 8
                continue
            item, position = _read_varint(value, position)
            items.append(_signed(item) if kind == "int" else item != 0)
        return items
    return [_decode_single(kind, wire_type, value, name)]


def _decode_map_entry(kind: str, wire_type: int, value, name: str) -> tuple[str, object]:
    """A map<string, V> entry is a message with key=1, value=2 (V is string, bytes or Quantity here)."""
    if wire_type != 2:
        raise _Malformed(f"map field {name!r} has wire type {wire_type}, expected 2")
    key, item = "", None
    for number, entry_wire_type, entry_value in _fields(value):
        if number == 1:
            key = _decode_single("string", entry_wire_type, entry_value, name)
        elif number == 2:
            item = _decode_single(kind, entry_wire_type, entry_value, name)
    if item is None:  # gogo leaves out nothing, but an absent value means the zero value
        item = _decode_single(kind, 2, b"", name)
    return key, item


def _decode_message(data: bytes, message: str) -> dict:
    schema = _MESSAGES[message]
    decoded: dict = {}
    for number, wire_type, value in _fields(data):
        field = schema.get(number)
        if field is None:
            continue  # a field newer than our table: skip it, like any protobuf reader
        if field.inline:
            _expect_wire(field.kind, wire_type, field.json_name)
            decoded.update(_decode_message(value, field.kind))
        elif field.repeated:
            decoded.setdefault(field.json_name, []).extend(
                _decode_repeated(field.kind, wire_type, value, field.json_name))
        elif field.is_map:
            key, item = _decode_map_entry(field.kind, wire_type, value, field.json_name)
            decoded.setdefault(field.json_name, {})[key] = item
        else:
            item = _decode_single(field.kind, wire_type, value, field.json_name)
            if field.kind in _SCALAR_WIRE_TYPES and not field.keep_zero and not item:
                decoded.pop(field.json_name, None)
                continue
            decoded[field.json_name] = item
    return decoded


# ---------------------------------------------------------------- entry point


def _split_unknown(body: bytes) -> tuple[str, str, bytes, str]:
    """runtime.Unknown: typeMeta=1 {apiVersion=1, kind=2}, raw=2, contentEncoding=3, contentType=4."""
    api_version = kind = content_encoding = ""
    raw = b""
    for number, wire_type, value in _fields(body):
        if wire_type != 2:
            continue
        if number == 1:
            for meta_number, meta_wire_type, meta_value in _fields(value):
                if meta_wire_type == 2 and meta_number == 1:
                    api_version = _text(meta_value)
                elif meta_wire_type == 2 and meta_number == 2:
                    kind = _text(meta_value)
        elif number == 2:
            raw = value
        elif number == 3:
            content_encoding = _text(value)
    return api_version, kind, raw, content_encoding


def decode_protobuf(body: bytes) -> dict:
    """Decode a `application/vnd.kubernetes.protobuf` request body into the equivalent JSON dict.

    Raises BadRequest for malformed bytes and UnsupportedMediaType for kinds not in the schema.
    """
    if not body.startswith(MAGIC):
        raise errors.BadRequest(
            "provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]")
    try:
        api_version, kind, raw, content_encoding = _split_unknown(body[len(MAGIC):])
    except _Malformed as error:
        raise errors.BadRequest(f"unable to decode protobuf body: {error}") from error
    if not api_version or not kind:
        raise errors.BadRequest("unable to decode protobuf body: Object 'Kind' or 'apiVersion' is missing")
    if content_encoding:
        raise errors.UnsupportedMediaType(
            f"protobuf content encoding {content_encoding!r} is not supported; send application/json")
    message = _TOP_LEVEL.get((api_version, kind)) or (kind if kind in _ANY_GROUP_VERSION else None)
    if message is None:
        raise errors.UnsupportedMediaType(
            f"protobuf decoding of {api_version} {kind} is not supported; send application/json")
    try:
        fields = _decode_message(raw, message)
    except _Malformed as error:
        raise errors.BadRequest(f"unable to decode protobuf {api_version} {kind}: {error}") from error
    return {"kind": kind, "apiVersion": api_version, **fields}
