"""kubectl's command-line habits that click does not share, applied to argv before parsing.

- Boolean flags written `--wait=false` or `--overwrite=true` (pflag accepts them, click does not).
- Global flags before the verb: `orc -n kube-system get pods`, `orc --kubeconfig k get nodes`
  (kubectl takes its global flags anywhere; typer only after the command they belong to).

No third-party imports: the `get` fast path (cli/client/fastpath.py) uses it too. Called by
`cli.client.register` and `cli.client.fastpath.main`.
"""

from __future__ import annotations

# Global flags that every client verb accepts (cli/client/options.py `@verb`) and that take a value.
_GLOBAL_FLAGS_WITH_VALUE = {"-n", "--namespace", "--kubeconfig", "--context", "-s", "--server", "--token"}


def hoist_global_flags(argv: list[str]) -> list[str]:
    """Move global flags that come before the verb to just after it: `-n ns get pods` -> `get -n ns pods`."""
    leading: list[str] = []
    index = 0
    while index < len(argv):
        argument = argv[index]
        flag, equals, _ = argument.partition("=")
        if flag in _GLOBAL_FLAGS_WITH_VALUE:
            if equals:
                leading.append(argument)
                index += 1
            elif index + 1 < len(argv):
                leading += argv[index:index + 2]
                index += 2
            else:
                return argv  # a flag without its value: let the parser say so
            continue
        if len(argument) > 2 and argument[:2] in ("-n", "-s") and not argument.startswith("--"):
            leading.append(argument)  # -nkube-system
            index += 1
            continue
        break
    if not leading or index >= len(argv):
        return argv
    return [argv[index], *leading, *argv[index + 1:]]


# Boolean flags kubectl users pass as `--flag=false` (pflag accepts it, click does not); the ones that
# default to true have a `--no-` form to turn them off.
_FLAGS_DEFAULT_TRUE = {"--wait": "--no-wait"}
_FLAGS_DEFAULT_FALSE = {
    "--overwrite", "--all", "--all-namespaces", "--recursive", "--show-labels", "--no-headers", "--show-kind",
    "--ignore-not-found", "--watch", "--watch-only", "--follow", "--previous", "--timestamps", "--now", "--force",
    "--save-config", "--ignore-daemonsets", "--delete-emptydir-data", "--disable-eviction", "--local",
    "--all-containers", "--prefix", "--record",
}


def normalize_boolean_flags(argv: list[str]) -> list[str]:
    """`--wait=false` -> `--no-wait`, `--overwrite=true` -> `--overwrite`, `--force=false` -> (nothing)."""
    normalized = []
    for index, argument in enumerate(argv):
        if argument == "--":  # what follows is a command to run, not flags
            normalized.extend(argv[index:])
            break
        flag, equals, value = argument.partition("=")
        if equals and value.lower() in ("true", "false") and (flag in _FLAGS_DEFAULT_TRUE
                                                             or flag in _FLAGS_DEFAULT_FALSE):
            enabled = value.lower() == "true"
            if flag in _FLAGS_DEFAULT_TRUE:
                normalized.append(flag if enabled else _FLAGS_DEFAULT_TRUE[flag])
            elif enabled:
                normalized.append(flag)
            continue
        normalized.append(argument)
    return normalized
